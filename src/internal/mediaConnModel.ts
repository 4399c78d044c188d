/**
 * The media connection's model and its parsers (docs/protocol.md section 5): the schemas, the host
 * rules every form shares, the JSON form, and the `<media_conn>` IQ reply.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { BinaryNode } from "../MediaConn.js"
import { MediaConnError } from "../MediaError.js"
import * as Nodes from "./binaryNode.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

export const HostType = Schema.Literal("primary", "fallback")

export const MediaConnHost = Schema.Struct({
  hostname: Schema.String,
  type: HostType,
  fallbackHostname: Schema.optionalWith(Schema.String, { exact: true }),
  ip4: Schema.optionalWith(Schema.String, { exact: true }),
  ip6: Schema.optionalWith(Schema.String, { exact: true })
})

export const MediaConnReply = Schema.Struct({
  auth: Schema.RedactedFromSelf(Schema.String),
  ttl: Schema.Number,
  authTtl: Schema.optionalWith(Schema.Number, { exact: true }),
  maxBuckets: Schema.optionalWith(Schema.Number, { exact: true }),
  hosts: Schema.Array(MediaConnHost)
})

export const MediaConnInfo = Schema.Struct({
  ...MediaConnReply.fields,
  fetchedAt: Schema.Number
})

type MediaConnHost = typeof MediaConnHost.Type
type MediaConnReply = typeof MediaConnReply.Type
type MediaConnInfo = typeof MediaConnInfo.Type

export const expiresAt = (info: MediaConnInfo): number =>
  info.fetchedAt + Math.min(info.ttl, info.authTtl ?? info.ttl) * 1000

export const hostOrder = (info: Pick<MediaConnReply, "hosts">): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const order: Array<string> = []
  const add = (hostname: string | undefined) => {
    if (hostname !== undefined && !seen.has(hostname)) {
      seen.add(hostname)
      order.push(hostname)
    }
  }
  for (const type of ["primary", "fallback"] as const) {
    for (const host of info.hosts) {
      if (host.type === type) {
        add(host.hostname)
        add(host.fallbackHostname)
      }
    }
  }
  return order
}

// -----------------------------------------------------------------------------
// validation shared by every form
// -----------------------------------------------------------------------------

// A host name goes straight into `https://{host}{path}`: anything beyond a DNS name, an IPv4 address
// or a bracketed IPv6 address, with an optional port, could redirect the request (`/`, `@`, `#`).
const hostnamePattern = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/

export const isUsableHostname = (hostname: string): boolean => {
  const match = hostnamePattern.exec(hostname)
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65535)
}

interface RawHost {
  readonly hostname?: string | undefined
  readonly type?: string | undefined
  readonly fallbackHostname?: string | undefined
  readonly ip4?: string | undefined
  readonly ip6?: string | undefined
}

// A host without a usable name is skipped; a missing type is primary; an unknown type is treated as
// a fallback (tried last) rather than failing the whole reply.
const normalizeHost = (raw: RawHost): MediaConnHost | undefined => {
  if (raw.hostname === undefined || !isUsableHostname(raw.hostname)) {
    return undefined
  }
  return {
    hostname: raw.hostname,
    type: raw.type === undefined || raw.type === "primary" ? "primary" : "fallback",
    ...(raw.fallbackHostname !== undefined && isUsableHostname(raw.fallbackHostname)
      ? { fallbackHostname: raw.fallbackHostname }
      : {}),
    ...(raw.ip4 !== undefined ? { ip4: raw.ip4 } : {}),
    ...(raw.ip6 !== undefined ? { ip6: raw.ip6 } : {})
  }
}

const normalizeHosts = (raw: ReadonlyArray<RawHost>): ReadonlyArray<MediaConnHost> => {
  const hosts: Array<MediaConnHost> = []
  for (const host of raw) {
    const normalized = normalizeHost(host)
    if (normalized !== undefined) hosts.push(normalized)
  }
  return hosts
}

export const requireHosts = <A extends Pick<MediaConnReply, "hosts">>(reply: A): Either.Either<A, MediaConnError> => {
  if (reply.hosts.length > 0) return Either.right(reply)
  return Either.left(new MediaConnError({ reason: "NoHosts", detail: "the reply lists no usable host" }))
}

export const malformed = (detail: string) => new MediaConnError({ reason: "Malformed", detail })

// -----------------------------------------------------------------------------
// JSON form
// -----------------------------------------------------------------------------

const optionalField = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(schema, { exact: true, nullable: true })

const Seconds = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())

export const MediaConnHostJson = Schema.Struct({
  hostname: optionalField(Schema.String),
  type: optionalField(Schema.String),
  fallback_hostname: optionalField(Schema.String),
  ip4: optionalField(Schema.String),
  ip6: optionalField(Schema.String)
})

export const MediaConnJson = Schema.Struct({
  auth: Schema.String,
  ttl: optionalField(Seconds),
  auth_ttl: optionalField(Seconds),
  max_buckets: optionalField(Schema.NonNegativeInt),
  hosts: optionalField(Schema.Array(MediaConnHostJson))
})

type MediaConnJson = typeof MediaConnJson.Type

export const encodeJson = (reply: MediaConnReply): MediaConnJson => ({
  auth: Redacted.value(reply.auth),
  ttl: reply.ttl,
  ...(reply.authTtl !== undefined ? { auth_ttl: reply.authTtl } : {}),
  ...(reply.maxBuckets !== undefined ? { max_buckets: reply.maxBuckets } : {}),
  hosts: reply.hosts.map((host) => ({
    hostname: host.hostname,
    type: host.type,
    ...(host.fallbackHostname !== undefined ? { fallback_hostname: host.fallbackHostname } : {}),
    ...(host.ip4 !== undefined ? { ip4: host.ip4 } : {}),
    ...(host.ip6 !== undefined ? { ip6: host.ip6 } : {})
  }))
})

export const MediaConnFromJson: Schema.Schema<MediaConnReply, typeof MediaConnJson.Encoded> = Schema.transform(
  MediaConnJson,
  Schema.typeSchema(MediaConnReply),
  {
    strict: true,
    decode: (json) => ({
      auth: Redacted.make(json.auth),
      ttl: json.ttl ?? 0,
      ...(json.auth_ttl !== undefined ? { authTtl: json.auth_ttl } : {}),
      ...(json.max_buckets !== undefined ? { maxBuckets: json.max_buckets } : {}),
      hosts: normalizeHosts(
        (json.hosts ?? []).map((host) => ({
          hostname: host.hostname,
          type: host.type,
          fallbackHostname: host.fallback_hostname,
          ip4: host.ip4,
          ip6: host.ip6
        }))
      )
    }),
    encode: encodeJson
  }
)

// Schema messages end with ", actual <value>": the value may be the auth token, so it is dropped.
const describeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => {
      const path = issue.path.length === 0 ? "(root)" : issue.path.map(String).join(".")
      return `${path}: ${issue.message.replace(/, actual [\s\S]*$/, "")}`
    })
    .join("; ")

const decodeJsonUnknown = Schema.decodeUnknownEither(MediaConnFromJson)

const parseJsonText = Schema.decodeEither(Schema.parseJson())

export const decodeJson = (json: unknown): Either.Either<MediaConnReply, MediaConnError> =>
  decodeJsonUnknown(json).pipe(
    Either.mapLeft((error) => malformed(describeParseError(error))),
    Either.flatMap(requireHosts)
  )

export const decodeJsonString = (text: string): Either.Either<MediaConnReply, MediaConnError> =>
  parseJsonText(text).pipe(
    // The parser's message quotes the text: it is not kept.
    Either.mapLeft(() => malformed("not valid JSON")),
    Either.flatMap(decodeJson)
  )

export const encodeJsonString = (info: MediaConnReply): string => JSON.stringify(encodeJson(info))

// -----------------------------------------------------------------------------
// IQ reply
// -----------------------------------------------------------------------------

const { attrOf, childrenOf, isNode } = Nodes

const decimal = /^\d+$/

const secondsAttr = (
  node: BinaryNode,
  name: string
): Either.Either<number | undefined, MediaConnError> => {
  const value = attrOf(node, name)
  if (value === undefined) return Either.right(undefined)
  const number = Number(value)
  return decimal.test(value) && Number.isFinite(number)
    ? Either.right(number)
    : Either.left(malformed(`${name} ${JSON.stringify(value.slice(0, 32))} is not a non-negative integer`))
}

const iqError = (iq: BinaryNode): MediaConnError => {
  const error = childrenOf(iq).find((child) => child.tag === "error")
  const code = error === undefined ? undefined : attrOf(error, "code")
  const text = error === undefined ? undefined : attrOf(error, "text")
  const what = [code, text].filter((part) => part !== undefined).join(" ")
  return new MediaConnError({
    reason: "SourceFailed",
    detail: what === "" ? "the server answered an IQ error" : `the server answered IQ error ${what}`
  })
}

export const fromNode = (node: BinaryNode): Either.Either<MediaConnReply, MediaConnError> => {
  if (!isNode(node)) return Either.left(malformed("the reply is not a node"))
  if (node.tag === "iq" && attrOf(node, "type") === "error") return Either.left(iqError(node))
  const mediaConn = node.tag === "media_conn" ? node : childrenOf(node).find((child) => child.tag === "media_conn")
  if (mediaConn === undefined) return Either.left(malformed("the reply has no media_conn node"))
  const auth = attrOf(mediaConn, "auth")
  if (auth === undefined || auth === "") return Either.left(malformed("media_conn has no auth"))
  return Either.all([
    secondsAttr(mediaConn, "ttl"),
    secondsAttr(mediaConn, "auth_ttl"),
    secondsAttr(mediaConn, "max_buckets")
  ]).pipe(
    Either.map(([ttl, authTtl, maxBuckets]): MediaConnReply => ({
      auth: Redacted.make(auth),
      ttl: ttl ?? 0,
      ...(authTtl !== undefined ? { authTtl } : {}),
      ...(maxBuckets !== undefined ? { maxBuckets } : {}),
      hosts: normalizeHosts(
        childrenOf(mediaConn)
          .filter((child) => child.tag === "host")
          .map((host) => ({
            hostname: attrOf(host, "hostname"),
            type: attrOf(host, "type"),
            fallbackHostname: attrOf(host, "fallback_hostname"),
            ip4: attrOf(host, "ip4"),
            ip6: attrOf(host, "ip6")
          }))
      )
    })),
    Either.flatMap(requireHosts)
  )
}
