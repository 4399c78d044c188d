/**
 * docs/protocol.md section 5: the media connection, i.e. the CDN hosts and the upload credential. This
 * module holds the model, its JSON form, the parser of the `<media_conn>` IQ reply, the host order,
 * and the `MediaConn` service: a cache that is valid for `min(ttl, auth_ttl)` seconds (measured with
 * Effect's `Clock`), shares one in-flight fetch between concurrent callers and never caches a
 * failure. Sources for tools and tests read the JSON form from a URL or a file.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as Nodes from "./internal/binaryNode.js"
import { MediaConnError } from "./MediaError.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Whether a host is a primary or a fallback host.
 *
 * @since 0.1.0
 * @category models
 */
export const HostType = Schema.Literal("primary", "fallback")

/**
 * @since 0.1.0
 * @category models
 */
export type HostType = typeof HostType.Type

/**
 * One CDN host of a media connection. `hostname` may carry a port (`127.0.0.1:4100`).
 *
 * @since 0.1.0
 * @category models
 */
export const MediaConnHost = Schema.Struct({
  hostname: Schema.String,
  type: HostType,
  fallbackHostname: Schema.optionalWith(Schema.String, { exact: true }),
  ip4: Schema.optionalWith(Schema.String, { exact: true }),
  ip6: Schema.optionalWith(Schema.String, { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export interface MediaConnHost extends Schema.Schema.Type<typeof MediaConnHost> {}

/**
 * A media connection as a source hands it over, before the service stamps the time it was fetched.
 * `ttl` and `authTtl` are in seconds; `auth` is the upload credential, redacted.
 *
 * @since 0.1.0
 * @category models
 */
export const MediaConnReply = Schema.Struct({
  auth: Schema.RedactedFromSelf(Schema.String),
  ttl: Schema.Number,
  authTtl: Schema.optionalWith(Schema.Number, { exact: true }),
  maxBuckets: Schema.optionalWith(Schema.Number, { exact: true }),
  hosts: Schema.Array(MediaConnHost)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface MediaConnReply extends Schema.Schema.Type<typeof MediaConnReply> {}

/**
 * A media connection held by the service: a reply plus `fetchedAt`, the epoch milliseconds (from
 * Effect's `Clock`) at which its fetch started.
 *
 * @since 0.1.0
 * @category models
 */
export const MediaConnInfo = Schema.Struct({
  ...MediaConnReply.fields,
  fetchedAt: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export interface MediaConnInfo extends Schema.Schema.Type<typeof MediaConnInfo> {}

/**
 * The epoch milliseconds at which a media connection stops being valid:
 * `fetchedAt + min(ttl, authTtl ?? ttl) * 1000`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const expiresAt = (info: MediaConnInfo): number =>
  info.fetchedAt + Math.min(info.ttl, info.authTtl ?? info.ttl) * 1000

/**
 * The host names to try, in order: primary hosts first, then fallback hosts, server order kept
 * within each group, each host's `fallbackHostname` right after it, duplicates dropped.
 *
 * @since 0.1.0
 * @category accessors
 */
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

const isUsableHostname = (hostname: string): boolean => {
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

const requireHosts = <A extends Pick<MediaConnReply, "hosts">>(reply: A): Either.Either<A, MediaConnError> => {
  if (reply.hosts.length > 0) return Either.right(reply)
  return Either.left(new MediaConnError({ reason: "NoHosts", detail: "the reply lists no usable host" }))
}

const malformed = (detail: string) => new MediaConnError({ reason: "Malformed", detail })

// -----------------------------------------------------------------------------
// JSON form
// -----------------------------------------------------------------------------

const optionalField = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(schema, { exact: true, nullable: true })

const Seconds = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())

/**
 * One host in the JSON form (snake_case, as the IQ reply's attributes).
 *
 * @since 0.1.0
 * @category json
 */
export const MediaConnHostJson = Schema.Struct({
  hostname: optionalField(Schema.String),
  type: optionalField(Schema.String),
  fallback_hostname: optionalField(Schema.String),
  ip4: optionalField(Schema.String),
  ip6: optionalField(Schema.String)
})

/**
 * The JSON form of a media connection used by this library's tools (docs/protocol.md section 5):
 * `{ "auth", "ttl", "auth_ttl", "max_buckets", "hosts": [{ "hostname", "type", "fallback_hostname",
 * "ip4", "ip6" }] }`. Optional fields may be missing or `null`.
 *
 * @since 0.1.0
 * @category json
 */
export const MediaConnJson = Schema.Struct({
  auth: Schema.String,
  ttl: optionalField(Seconds),
  auth_ttl: optionalField(Seconds),
  max_buckets: optionalField(Schema.NonNegativeInt),
  hosts: optionalField(Schema.Array(MediaConnHostJson))
})

/**
 * The JSON object as `encodeJson` produces it (decoding also accepts `null` for a missing field).
 *
 * @since 0.1.0
 * @category json
 */
export type MediaConnJson = typeof MediaConnJson.Type

const toJson = (reply: MediaConnReply): MediaConnJson => ({
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

/**
 * Decodes the JSON form into a `MediaConnReply` and encodes it back. Decoding skips hosts without
 * a usable `hostname`, reads a missing `type` as primary and a missing `ttl` as 0; encoding writes
 * the auth token in clear, as the JSON form carries it.
 *
 * @since 0.1.0
 * @category json
 */
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
    encode: toJson
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

/**
 * Decodes the JSON form (an already parsed value) into a `MediaConnReply`. Fails with
 * `MediaConnError` `Malformed` when it does not fit, `NoHosts` when no usable host is left.
 * The result is an `Either`, which can also be yielded as an `Effect`.
 *
 * @since 0.1.0
 * @category json
 */
export const decodeJson = (json: unknown): Either.Either<MediaConnReply, MediaConnError> =>
  decodeJsonUnknown(json).pipe(
    Either.mapLeft((error) => malformed(describeParseError(error))),
    Either.flatMap(requireHosts)
  )

/**
 * Decodes the JSON form from text. Text that is not JSON fails with `MediaConnError` `Malformed`
 * (without quoting the text, which may hold the auth token).
 *
 * @since 0.1.0
 * @category json
 */
export const decodeJsonString = (text: string): Either.Either<MediaConnReply, MediaConnError> =>
  parseJsonText(text).pipe(
    // The parser's message quotes the text: it is not kept.
    Either.mapLeft(() => malformed("not valid JSON")),
    Either.flatMap(decodeJson)
  )

/**
 * Encodes a media connection into its JSON form, auth token in clear (`fetchedAt`, if present, is
 * not part of it). For the emulator and the command line tools.
 *
 * @since 0.1.0
 * @category json
 */
export const encodeJson = (info: MediaConnReply): MediaConnJson => toJson(info)

/**
 * `encodeJson` as a JSON string.
 *
 * @since 0.1.0
 * @category json
 */
export const encodeJsonString = (info: MediaConnReply): string => JSON.stringify(encodeJson(info))

// -----------------------------------------------------------------------------
// IQ reply
// -----------------------------------------------------------------------------

/**
 * A binary node as Baileys-style sockets hand it over.
 *
 * @since 0.1.0
 * @category iq
 */
export interface BinaryNode extends Nodes.BinaryNode {}

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

/**
 * Parses the reply to the `<iq xmlns="w:m" type="set"><media_conn/></iq>` query: either the `<iq>`
 * node or its `<media_conn>` child. A missing `media_conn` node, a missing `auth` or a non-numeric
 * `ttl`, `auth_ttl` or `max_buckets` fail with `MediaConnError` `Malformed`; an IQ error reply with
 * `SourceFailed`; no usable host with `NoHosts`. The result is an `Either`, which can also be
 * yielded as an `Effect`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaConn } from "effect-wa-media"
 *
 * // `query` sends an IQ over a Baileys socket and returns its reply node
 * declare const query: (node: MediaConn.BinaryNode) => Effect.Effect<MediaConn.BinaryNode>
 *
 * const source = query({
 *   tag: "iq",
 *   attrs: { xmlns: "w:m", type: "set", to: "s.whatsapp.net" },
 *   content: [{ tag: "media_conn", attrs: {} }]
 * }).pipe(Effect.flatMap(MediaConn.fromNode))
 * const layer = MediaConn.layer(source)
 * ```
 *
 * @since 0.1.0
 * @category iq
 */
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

// -----------------------------------------------------------------------------
// service
// -----------------------------------------------------------------------------

/**
 * The media connection in use, cached until `min(ttl, auth_ttl)` after its fetch started.
 *
 * - `get`: the cached connection, or a fresh one when it expired or was never fetched; concurrent
 *   callers share one in-flight fetch, and a failed fetch is not cached.
 * - `invalidate`: drops the cached connection (an in-flight fetch is kept: it is already fresh).
 * - `refresh`: a fresh connection (after a 401, say): `invalidate` then `get`, sharing an in-flight
 *   fetch if there is one.
 *
 * @since 0.1.0
 * @category tags
 */
export class MediaConn extends Context.Tag("effect-wa-media/MediaConn")<MediaConn, {
  readonly get: Effect.Effect<MediaConnInfo, MediaConnError>
  readonly invalidate: Effect.Effect<void>
  readonly refresh: Effect.Effect<MediaConnInfo, MediaConnError>
}>() {}

const stamp = (reply: MediaConnReply, fetchedAt: number): Either.Either<MediaConnInfo, MediaConnError> => {
  // A custom source may hand over hosts the parsers would have skipped.
  const hosts = reply.hosts.filter((host) => isUsableHostname(host.hostname))
  return requireHosts({ ...reply, hosts, fetchedAt })
}

type Fetch = Fiber.RuntimeFiber<MediaConnInfo, MediaConnError>

/**
 * Builds the service over a source, an effect that fetches a fresh media connection each time it
 * runs (e.g. the IQ query through `fromNode`, `fromUrl`, `fromFile`). Fetches run in the scope of
 * the service, so a caller that is interrupted does not cancel a fetch others are waiting for.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R>(
  source: Effect.Effect<MediaConnReply, MediaConnError, R>
): Effect.Effect<MediaConn["Type"], never, R | Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const scope = yield* Effect.scope
    // The latest fetch as a fiber of the service's scope: callers join it, so concurrent callers
    // share one fetch, an interrupted caller only stops its own wait, and closing the scope stops
    // the fetch. Effect's `Cache` does not fit: its lookup runs in the first caller's fiber (that
    // caller's interruption interrupts every waiter) and its TTL counts from the end of the fetch.
    const latest = yield* SynchronizedRef.make(Option.none<Fetch>())

    const fetch = Effect.flatMap(Clock.currentTimeMillis, (fetchedAt) =>
      source.pipe(
        Effect.flatMap((reply) => stamp(reply, fetchedAt)),
        Effect.mapInputContext((caller: Context.Context<never>) => Context.merge(caller, context))
      ))

    // A fetch in flight is always shared (it is as fresh as it gets); a finished one only while it
    // succeeded and has not expired, and not for a refresh. A failure is never reused.
    const reusable = (current: Fetch, force: boolean, now: number): boolean => {
      const exit = current.unsafePoll()
      return exit === null || (!force && Exit.isSuccess(exit) && now < expiresAt(exit.value))
    }

    const obtain = (force: boolean): Effect.Effect<MediaConnInfo, MediaConnError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        SynchronizedRef.modifyEffect(latest, (current) =>
          Option.isSome(current) && reusable(current.value, force, now)
            ? Effect.succeed([current.value, current] as const)
            : Effect.map(Effect.forkIn(fetch, scope), (started) =>
              [started, Option.some(started)] as const))).pipe(
          Effect.flatMap(Fiber.join)
        )

    return MediaConn.of({
      get: obtain(false).pipe(Effect.withSpan("MediaConn.get")),
      // A fetch in flight is kept: it is already fresh.
      invalidate: SynchronizedRef.update(
        latest,
        Option.filter((current) =>
          current.unsafePoll() === null
        )
      ),
      refresh: obtain(true).pipe(Effect.withSpan("MediaConn.refresh"))
    })
  })

/**
 * The service over a source, as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R>(
  source: Effect.Effect<MediaConnReply, MediaConnError, R>
): Layer.Layer<MediaConn, never, Exclude<R, Scope.Scope>> => Layer.scoped(MediaConn, make(source))

// -----------------------------------------------------------------------------
// sources
// -----------------------------------------------------------------------------

/**
 * A source that always hands over the same media connection, given as a model or in its JSON form
 * (a JSON form that does not decode makes every `get` fail with `MediaConnError`).
 *
 * @since 0.1.0
 * @category sources
 */
export const fromValue = (input: MediaConnReply | MediaConnJson): Effect.Effect<MediaConnReply, MediaConnError> => {
  const decoded = Redacted.isRedacted(input.auth) ? Either.right(input as MediaConnReply) : decodeJson(input)
  return Effect.suspend(() => decoded)
}

/**
 * The service over a fixed media connection, for tests and tools.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (input: MediaConnReply | MediaConnJson): Layer.Layer<MediaConn> => layer(fromValue(input))

/**
 * Options of `fromUrl`.
 *
 * @since 0.1.0
 * @category sources
 */
export interface UrlOptions {
  /** How long the request and its body may take, 30 seconds by default. */
  readonly timeout?: Duration.DurationInput | undefined
}

// URLs in errors lose their query, fragment and user info, which may carry credentials.
const displayUrl = (url: string | URL): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return "the media connection URL"
  }
}

const httpFailure = (url: string | URL, shown: string) => (error: HttpClientError.HttpClientError) => {
  const description = error.description === undefined
    ? ""
    : ` (${error.description.split(String(url)).join(shown)})`
  return new MediaConnError({ reason: "SourceFailed", detail: `GET ${shown} failed: ${error.reason}${description}` })
}

/**
 * A source that GETs the JSON form from a URL with the `HttpClient` of the context; each run asks
 * again (the server hands over a fresh credential each time). A non-2xx status, a transport error or
 * a timeout fail with `MediaConnError` `SourceFailed`, a body that does not decode with `Malformed`.
 *
 * @since 0.1.0
 * @category sources
 */
export const fromUrl = (
  url: string | URL,
  options?: UrlOptions
): Effect.Effect<MediaConnReply, MediaConnError, HttpClient.HttpClient> => {
  const shown = displayUrl(url)
  const timeout = Duration.decode(options?.timeout ?? Duration.seconds(30))
  return Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url, { acceptJson: true })
    return yield* HttpClientResponse.matchStatus(response, {
      "2xx": (ok) => Effect.flatMap(ok.text, decodeJsonString),
      orElse: (failed) =>
        new MediaConnError({ reason: "SourceFailed", detail: `GET ${shown} answered ${failed.status}` })
    })
  }).pipe(
    Effect.catchTags({ RequestError: httpFailure(url, shown), ResponseError: httpFailure(url, shown) }),
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new MediaConnError({
          reason: "SourceFailed",
          detail: `GET ${shown} took longer than ${Duration.format(timeout)}`
        })
    }),
    Effect.withSpan("MediaConn.fromUrl", { attributes: { url: shown } })
  )
}

/**
 * The service over `fromUrl`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerUrl = (
  url: string | URL,
  options?: UrlOptions
): Layer.Layer<MediaConn, never, HttpClient.HttpClient> => layer(fromUrl(url, options))

/**
 * A source that reads the JSON form from a file with the `FileSystem` of the context; each run
 * reads the file again. A file that cannot be read fails with `MediaConnError` `SourceFailed`, one
 * that does not decode with `Malformed`.
 *
 * @since 0.1.0
 * @category sources
 */
export const fromFile = (path: string): Effect.Effect<MediaConnReply, MediaConnError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) =>
        new MediaConnError({
          reason: "SourceFailed",
          detail: `cannot read ${path}: ${error._tag === "SystemError" ? error.reason : error._tag}`
        })
      )
    )
    return yield* decodeJsonString(text)
  }).pipe(Effect.withSpan("MediaConn.fromFile", { attributes: { path } }))

/**
 * The service over `fromFile`: refreshing re-reads the file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (path: string): Layer.Layer<MediaConn, never, FileSystem.FileSystem> => layer(fromFile(path))

/**
 * The part of a Baileys socket {@link fromBaileys} uses, typed structurally (no dependency on
 * Baileys): `refreshMediaConn(true)` runs the `<media_conn>` IQ and resolves to
 * `{ auth, ttl, hosts: [{ hostname }] }`.
 *
 * @since 0.1.0
 * @category sources
 */
export interface BaileysSocket {
  refreshMediaConn(forceGet?: boolean): Promise<{
    readonly auth: string
    readonly ttl: number
    readonly hosts: ReadonlyArray<{ readonly hostname: string }>
  }>
}

/**
 * A source over a Baileys socket's `refreshMediaConn`: each run asks the server again (this
 * service does the caching). A rejection fails with `MediaConnError` `SourceFailed`, a reply
 * without a usable host with `NoHosts`.
 *
 * @example
 * ```ts
 * import { MediaConn } from "effect-wa-media"
 *
 * declare const sock: MediaConn.BaileysSocket // makeWASocket(…)
 * const MediaConnLive = MediaConn.layer(MediaConn.fromBaileys(sock))
 * ```
 *
 * @since 0.1.0
 * @category sources
 */
export const fromBaileys = (socket: BaileysSocket): Effect.Effect<MediaConnReply, MediaConnError> =>
  Effect.tryPromise({
    try: () => socket.refreshMediaConn(true),
    catch: (error) =>
      new MediaConnError({
        reason: "SourceFailed",
        detail: `refreshMediaConn failed: ${error instanceof Error ? error.message : "unknown error"}`
      })
  }).pipe(
    Effect.flatMap((info) =>
      isRecordLike(info) && Array.isArray(info.hosts)
        ? decodeJson({
          auth: info.auth,
          ttl: info.ttl,
          hosts: info.hosts.map((host) => ({ hostname: isRecordLike(host) ? host.hostname : undefined }))
        })
        : Either.left(malformed("refreshMediaConn resolved to something else than a media connection"))
    ),
    Effect.withSpan("MediaConn.fromBaileys")
  )

const isRecordLike = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null
