/**
 * The CDN's HTTP face, one `HttpRouter` for the emulator and the fake alike: `GET /media_conn`,
 * `POST {uploadPath}/{token}` (with resume probes and `file_offset` appends), `GET {directPath}`
 * (with `Range`), and the control endpoints under `/_control/`. Each media route takes the fault
 * queued for its kind, records what it answered, and asks the request's `Connection` for what only
 * a socket can do.
 *
 * @internal
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as MediaType from "../../MediaType.js"
import { Connection } from "./connection.js"
import type { Fault, RequestKind } from "./faults.js"
import * as Faults from "./faults.js"
import type { Links } from "./links.js"
import { parseUrl } from "./links.js"
import type { MediaConns } from "./mediaConn.js"
import type { Recording } from "./recording.js"
import { redactAuth } from "./recording.js"
import type { PartialBlob, Store } from "./store.js"
import { toBase64Url } from "./store.js"

/** What the routes work on, provided once to the app. @internal */
export class World extends Context.Tag("effect-wa-media/internal/cdn/World")<World, {
  readonly store: Store
  readonly links: Links
  readonly mediaConns: MediaConns
  readonly faults: Faults.Faults
  readonly recording: Recording
}>() {}

/** The upload paths of docs/protocol.md section 1, one per media type. @internal */
export const uploadPaths: ReadonlySet<string> = new Set(
  MediaType.names.map((name) => MediaType.info(name).uploadPath)
)

const tokenPattern = /^[A-Za-z0-9_-]{43}$/

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })

const noContent = HttpServerResponse.empty({ status: 204 })

// A query parameter as `URLSearchParams.get` reads it: the first value.
const param = (params: Readonly<Record<string, string | ReadonlyArray<string>>>, name: string): string | undefined => {
  const value = params[name]
  return typeof value === "string" ? value : value?.[0]
}

const parseLength = (value: string | undefined): number | undefined =>
  value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined

const bodyStream = (body: HttpBody.HttpBody): Stream.Stream<Uint8Array, unknown> =>
  body._tag === "Stream"
    ? body.stream
    : body._tag === "Uint8Array" && body.body.length > 0
    ? Stream.succeed(body.body)
    : Stream.empty

const ControlFaults = Schema.Struct({
  host: Schema.optional(Schema.String),
  fault: Schema.optional(Faults.Fault),
  faults: Schema.optional(Schema.Array(Faults.Fault))
})

const decodeControlFaults = Schema.decodeUnknownEither(Schema.parseJson(ControlFaults))

// Records a request of `kind` once its answer is known.
const recorder = (kind: RequestKind, fault: Fault | undefined) =>
  Effect.gen(function*() {
    const { recording } = yield* World
    const request = yield* HttpServerRequest.HttpServerRequest
    const { host } = yield* Connection
    return (status: number | undefined, bytes: number) =>
      recording.add({
        host,
        method: request.method,
        kind,
        path: redactAuth(request.url),
        status,
        range: request.headers["range"],
        bytes,
        fault: fault?._tag
      })
  })

type Recorder = Effect.Effect.Success<ReturnType<typeof recorder>>

// Records an answer that is not a blob's body: `bytes` counts the upload body taken in, if any.
const answered = (record: Recorder, response: HttpServerResponse.HttpServerResponse, bytes = 0) =>
  Effect.as(record(response.status, bytes), response)

// Applies a response-side fault to an answer and records it, just before the transport sees it.
const respond = (response: HttpServerResponse.HttpServerResponse, fault: Fault | undefined, record: Recorder) =>
  Effect.gen(function*() {
    const length = Number(response.headers["content-length"] ?? "0")
    if (fault === undefined) return yield* Effect.as(record(response.status, length), response)
    const connection = yield* Connection
    const faulted = Faults.responseBody(fault, bodyStream(response.body), length, connection)
    yield* record(response.status, faulted.bytes)
    return HttpServerResponse.stream(faulted.body, {
      status: response.status,
      headers: response.headers,
      contentType: response.headers["content-type"],
      contentLength: length
    })
  })

// Refuses a request before using its body: the answer goes out once the body was read to its end
// and dropped. A Node server stops reading a request it has answered, and a client still sending
// the body (an upload) would never finish.
const refuse = (record: Recorder, response: HttpServerResponse.HttpServerResponse) =>
  Effect.zipRight(
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => Effect.ignore(Stream.runDrain(request.stream))),
    answered(record, response)
  )

const notFound = Effect.flatMap(
  recorder("other", undefined),
  (record) => answered(record, json(404, { error: "not found" }))
)

// A media route: the fault its kind takes at this host, an injected status, the method it serves.
const media = <R>(
  kind: RequestKind,
  method: string,
  handler: (
    fault: Fault | undefined,
    record: Recorder
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
) =>
  Effect.gen(function*() {
    // An empty path segment is no CDN path (the router would match it as an empty parameter).
    const params = yield* HttpRouter.params
    if (Object.values(params).some((value) => value === undefined || value === "")) return yield* notFound
    const { faults } = yield* World
    const request = yield* HttpServerRequest.HttpServerRequest
    const { host } = yield* Connection
    const fault = yield* faults.take(host, kind)
    const record = yield* recorder(kind, fault)
    if (fault?._tag === "Status") return yield* refuse(record, json(fault.status, { error: "injected fault" }))
    if (request.method !== method) return yield* refuse(record, json(405, { error: "method not allowed" }))
    return yield* handler(fault, record)
  })

const serveMediaConn = media(
  "media_conn",
  "GET",
  (fault, record) =>
    World.pipe(
      Effect.flatMap(({ mediaConns }) => mediaConns.issue),
      Effect.flatMap((reply) => respond(json(200, reply), fault, record))
    )
)

const download = media("download", "GET", (fault, record) =>
  Effect.gen(function*() {
    const { links, store } = yield* World
    const request = yield* HttpServerRequest.HttpServerRequest
    const { id } = yield* HttpRouter.params
    const search = yield* HttpServerRequest.ParsedSearchParams
    const answer = (response: HttpServerResponse.HttpServerResponse) =>
      respond(response, response.status < 300 ? fault : undefined, record)
    const blob = store.byId(id!)
    if (blob === undefined) return yield* answer(json(404, { error: "not found" }))
    const pathname = request.url.split("?", 1)[0]!
    const verdict = yield* links.verify(pathname, param(search, "oh"), param(search, "oe"))
    if (verdict === "Mismatch") return yield* answer(json(403, { error: "URL signature mismatch" }))
    if (verdict === "Expired") return yield* answer(json(410, { error: "URL signature expired" }))
    const length = blob.length
    const options = { contentType: "application/octet-stream", headers: { "accept-ranges": "bytes" } }
    const range = fault?._tag === "IgnoreRange" ? undefined : request.headers["range"]
    const match = range === undefined ? null : /^bytes=(\d+)-(\d*)$/.exec(range.trim())
    if (match === null) {
      return yield* answer(
        HttpServerResponse.stream(store.read(blob, 0, length), { ...options, contentLength: length })
      )
    }
    const start = Number(match[1])
    const last = match[2] === "" ? length - 1 : Math.min(Number(match[2]), length - 1)
    if (start >= length || last < start) {
      return yield* answer(json(416, { error: "range not satisfiable" }, { "content-range": `bytes */${length}` }))
    }
    return yield* answer(HttpServerResponse.stream(store.read(blob, start, last + 1), {
      ...options,
      status: 206,
      headers: { ...options.headers, "content-range": `bytes ${start}-${last}/${length}` },
      contentLength: last + 1 - start
    }))
  }))

// Reads an upload body into a partial; returns whether the body ended normally.
const receive = (partial: PartialBlob, body: Stream.Stream<Uint8Array, unknown>) =>
  body.pipe(
    Stream.runForEachChunk(partial.write),
    Effect.match({ onFailure: () => false, onSuccess: () => true }),
    Effect.ensuring(partial.close)
  )

const upload = (uploadPath: string) =>
  media("upload", "POST", (fault, record) =>
    Effect.gen(function*() {
      if (fault?._tag === "Stall") {
        yield* record(undefined, 0)
        return yield* Effect.never
      }
      const { links, mediaConns, store } = yield* World
      const request = yield* HttpServerRequest.HttpServerRequest
      const connection = yield* Connection
      const search = yield* HttpServerRequest.ParsedSearchParams
      const reply = (response: HttpServerResponse.HttpServerResponse, bytes = 0) => answered(record, response, bytes)
      if (!(yield* mediaConns.valid(param(search, "auth")))) {
        return yield* refuse(record, json(401, { error: "unauthorized" }))
      }
      const token = param(search, "token")
      if (token === undefined || token !== (yield* HttpRouter.params).token || !tokenPattern.test(token)) {
        return yield* refuse(record, json(400, { error: "bad token" }))
      }
      if (param(search, "resume") === "1") {
        const blob = store.byToken(token)
        if (blob !== undefined) {
          const stored = yield* links.link(blob, connection.host)
          return yield* reply(json(200, { resume: "complete", url: stored.url, direct_path: stored.directPath }))
        }
        return yield* reply(json(200, { resume: String(store.held.get(token)?.length ?? 0) }))
      }
      const contentLength = request.headers["transfer-encoding"] === undefined
        ? parseLength(request.headers["content-length"])
        : undefined
      if (contentLength === undefined) {
        return yield* refuse(record, json(411, { error: "length required" }))
      }
      const offsetParam = param(search, "file_offset")
      const offset = offsetParam === undefined ? 0 : /^\d+$/.test(offsetParam) ? Number(offsetParam) : -1
      const held = store.held.get(token)
      if (offset !== 0 && (held === undefined || held.length !== offset)) {
        return yield* refuse(
          record,
          json(400, { error: "file_offset does not match", resume: String(held?.length ?? 0) })
        )
      }
      if (offset + contentLength > store.maxLength) {
        // The body stays unread, as it may be larger than anything worth reading: close the connection.
        return yield* reply(json(413, { error: "blob too large for this store" }, { connection: "close" }))
      }
      let partial: PartialBlob
      if (offset === 0) {
        if (held !== undefined) yield* held.discard
        partial = yield* store.partial(contentLength)
      } else {
        partial = held!
        partial.reserve(contentLength)
      }
      store.held.set(token, partial)
      const { body, cut } = Faults.uploadBody(fault, request.stream, contentLength)
      const complete = yield* receive(partial, body)
      const received = partial.length - offset
      if (cut || !complete || received < contentLength) {
        // The connection broke off: what arrived stays held for a resume.
        yield* record(undefined, received)
        return yield* connection.reset
      }
      if (store.held.get(token) === partial) store.held.delete(token)
      const digest = toBase64Url(partial.hash.copy().digest())
      if (received !== contentLength || digest !== token) {
        yield* partial.discard
        return yield* reply(json(400, { error: "token does not match the body's SHA-256" }), received)
      }
      const blob = yield* store.commit(partial, token, uploadPath)
      const stored = yield* links.link(blob, connection.host)
      return yield* reply(
        json(200, {
          url: stored.url,
          direct_path: stored.directPath,
          ...(uploadPath === "/product/image" ? { handle: `${blob.id}-handle` } : {})
        }),
        received
      )
    }))

const readJson = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
  request.stream.pipe(
    (stream) => Faults.takeBytes(stream, 1024 * 1024),
    Stream.decodeText(),
    Stream.mkString,
    Effect.option
  ))

const queryHost = Effect.map(HttpServerRequest.ParsedSearchParams, (search) => param(search, "host"))

const injectFaults = Effect.gen(function*() {
  const { faults } = yield* World
  const text = yield* readJson
  const decoded = decodeControlFaults(Option.getOrElse(text, () => ""))
  if (decoded._tag === "Left") return json(400, { error: "malformed faults" })
  const { fault, faults: list } = decoded.right
  const all = [...(fault === undefined ? [] : [fault]), ...(list ?? [])]
  yield* faults.inject(all, decoded.right.host ?? (yield* queryHost) ?? (yield* Connection).host)
  return noContent
})

// A control that acts and answers 204.
const control = <R>(act: (world: World["Type"]) => Effect.Effect<void, never, R>) =>
  Effect.as(Effect.flatMap(World, act), noContent)

const router = HttpRouter.empty.pipe(
  HttpRouter.all("/media_conn", serveMediaConn),
  HttpRouter.concat(
    HttpRouter.fromIterable(
      [...uploadPaths].map((path) => HttpRouter.makeRoute("*", `${path}/:token` as HttpRouter.PathInput, upload(path)))
    )
  ),
  HttpRouter.all("/v/:folder/:id(^\\d+_\\d+_n).:ext(^(?:enc|jpg)$)", download),
  HttpRouter.post("/_control/faults", injectFaults),
  HttpRouter.del("/_control/faults", control((world) => Effect.flatMap(queryHost, world.faults.clear))),
  HttpRouter.get(
    "/_control/requests",
    Effect.flatMap(World, ({ recording }) => Effect.map(recording.all, (records) => json(200, records)))
  ),
  HttpRouter.del("/_control/requests", control((world) => world.recording.clear)),
  HttpRouter.post("/_control/expire-links", control((world) => world.links.expire)),
  HttpRouter.post("/_control/revoke-auth", control((world) => world.mediaConns.revoke)),
  HttpRouter.all("/_control/*", Effect.succeed(json(404, { error: "no such control" })))
)

// Paths exactly as written: no case folding, no trailing or duplicate slashes ignored.
const routerConfig = {
  caseSensitive: true,
  ignoreTrailingSlash: false,
  ignoreDuplicateSlashes: false,
  maxParamLength: Number.MAX_SAFE_INTEGER
}

/**
 * The router as an app: URLs normalised as the WHATWG parser reads them (an unparsable one is a
 * 400), and any path no route knows a recorded 404 of kind `other`.
 *
 * @internal
 */
export const make = (world: World["Type"]): Effect.Effect<HttpApp.Default<never, Connection>> =>
  Effect.map(HttpRouter.withRouterConfig(HttpRouter.toHttpApp(router), routerConfig), (app) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = parseUrl(request.url)
      if (url === undefined) return json(400, { error: "bad url" })
      return yield* app.pipe(
        Effect.catchTag("RouteNotFound", () => notFound),
        Effect.provideService(
          HttpServerRequest.HttpServerRequest,
          request.modify({ url: `${url.pathname}${url.search}` })
        ),
        Effect.provideService(World, world)
      )
    }))
