/**
 * A CDN emulator on real loopback HTTP: `GET /media_conn`, uploads (with resume probes and
 * `file_offset` appends) and downloads (with `Range`) as docs/protocol.md sections 5-7 describe, over
 * several ports that share one blob store, with fault injection per host. Blobs live in memory, or
 * in a folder with `dir`. Requests and responses stream: a 1 GiB transfer never sits in memory
 * with the folder store. `NodeHttpServer` serves the same `HttpRouter` that `testing/FakeCdn` runs
 * in memory.
 *
 * Control endpoints (on every port): `POST /_control/faults` with
 * `{ "host"?: "127.0.0.1:4100", "fault"?: Fault, "faults"?: [Fault] }` (no host: the port asked),
 * `DELETE /_control/faults[?host=…]`, `GET /_control/requests`, `DELETE /_control/requests`,
 * `POST /_control/expire-links`, `POST /_control/revoke-auth`.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import type * as CdnControl from "./CdnControl.js"
import * as Cdn from "./internal/cdn/cdn.js"
import { Connection } from "./internal/cdn/connection.js"
import * as MediaConn from "./MediaConn.js"
import type { MediaCrypto } from "./MediaCrypto.js"
import * as MediaDownload from "./MediaDownload.js"
import * as MediaUpload from "./MediaUpload.js"

/**
 * @since 0.1.0
 * @category tags
 */
export class CdnEmulator extends Context.Tag("effect-wa-media/CdnEmulator")<
  CdnEmulator,
  CdnControl.CdnControl & {
    /** `http://127.0.0.1:<first port>` */
    readonly baseUrl: string
    /** `GET` it for a media connection: `<baseUrl>/media_conn`. */
    readonly mediaConnUrl: string
    /** The listening ports, in host order. */
    readonly ports: ReadonlyArray<number>
  }
>() {}

/**
 * Options of the emulator. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How many hosts (ports) to listen on; the first is the primary. Default 2. */
  readonly ports?: number | undefined
  /** The first port; the others follow it. 0 (the default) picks free ports. */
  readonly port?: number | undefined
  /** Store blobs in this folder instead of memory. */
  readonly dir?: string | undefined
  /** Lifetime of an auth token handed out by `/media_conn`. Default 21600 s. */
  readonly tokenTtlSeconds?: number | undefined
  /** Lifetime of a signed link (`oe`). Default 14 days. */
  readonly linkTtlSeconds?: number | undefined
  /** The `ttl` of a media connection. Default 300 s. */
  readonly mediaConnTtlSeconds?: number | undefined
}

// The socket-level half of faults, on the Node socket of each request: break off without an answer,
// cut a response after what was written (`destroySoon` flushes it first), or send the headers and
// hold the connection.
const nodeConnection = (host: string) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const nodeRequest = NodeHttpServerRequest.toIncomingMessage(request)
    const nodeResponse = NodeHttpServerRequest.toServerResponse(request)
    return Connection.of({
      host,
      // Reset without reading the rest of the body; the `close` that follows interrupts the fiber.
      reset: Effect.zipRight(Effect.sync(() => nodeRequest.socket.destroy()), Effect.never),
      cut: Stream.fromEffect(Effect.zipRight(Effect.sync(() => nodeResponse.socket?.destroySoon()), Effect.never)),
      stall: Stream.fromEffect(Effect.zipRight(Effect.sync(() => nodeResponse.flushHeaders()), Effect.never))
    })
  })

// The server span of a request records its URL and query: one that carries the upload's `auth` gets
// no span, so that an emulator under a tracer never exports a credential.
const carriesAuth = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const query = request.url.indexOf("?")
  return query !== -1 && new URLSearchParams(request.url.slice(query + 1)).has("auth")
}

const listen = (port: number) =>
  Effect.gen(function*() {
    const server = Http.createServer()
    const httpServer = yield* NodeHttpServer.make(() => server, { port, host: "127.0.0.1" })
    // Runs before the server's own close, which would otherwise wait for stalled connections.
    yield* Effect.addFinalizer(() => Effect.sync(() => server.closeAllConnections()))
    const address = httpServer.address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("the emulator listens on TCP")
    return { httpServer, port: address.port }
  })

/**
 * Starts the emulator on 127.0.0.1; it stops, closing every connection (stalled ones included),
 * when the scope closes. Fails with `ServeError` when a port cannot be had.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as CdnEmulator from "effect-wa-media/CdnEmulator"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const cdn = yield* CdnEmulator.make({ port: 0 })
 *   console.log(cdn.mediaConnUrl)
 *   yield* cdn.injectFault({ _tag: "Status", status: 503, times: 2 })
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<CdnEmulator["Type"], ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const count = Math.max(1, options.ports ?? 2)
    const first = options.port ?? 0
    const servers: Array<{ readonly httpServer: HttpServer.HttpServer; readonly port: number }> = []
    for (let i = 0; i < count; i++) servers.push(yield* listen(first === 0 ? 0 : first + i))
    const hosts = servers.map(({ port }) => `127.0.0.1:${port}`)
    const cdn = yield* Cdn.make({
      hosts,
      scheme: "http",
      dir: options.dir,
      tokenTtlSeconds: options.tokenTtlSeconds,
      linkTtlSeconds: options.linkTtlSeconds,
      mediaConnTtlSeconds: options.mediaConnTtlSeconds
    })
    for (let i = 0; i < count; i++) {
      yield* servers[i]!.httpServer.serve(Effect.provideServiceEffect(cdn.app, Connection, nodeConnection(hosts[i]!)))
        .pipe(
          HttpMiddleware.withTracerDisabledWhenEffect(carriesAuth)
        )
    }
    const baseUrl = `http://${hosts[0]}`
    return CdnEmulator.of({
      ...cdn.control,
      baseUrl,
      mediaConnUrl: `${baseUrl}/media_conn`,
      ports: servers.map(({ port }) => port)
    })
  })

/**
 * The emulator as a scoped layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CdnEmulator, ServeError> =>
  Layer.scoped(CdnEmulator, make(options))

/**
 * The emulator and a `MediaConn` that fetches from its `GET /media_conn` (a fresh auth token each
 * time it refreshes), over the `HttpClient` you provide (`NodeHttpClient.layerUndici`): the media
 * connection is fetched over real loopback HTTP, recorded in `requests` and subject to faults with
 * `on: "media_conn"`. Its hosts speak plain HTTP, so transfers need `protocol: "http"` (or take
 * {@link layerTransfers}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithMediaConn = (
  options: Options = {}
): Layer.Layer<CdnEmulator | MediaConn.MediaConn, ServeError, HttpClient.HttpClient> =>
  Layer.provideMerge(
    Layer.unwrapEffect(Effect.map(CdnEmulator, (cdn) => MediaConn.layerUrl(cdn.mediaConnUrl))),
    layer(options)
  )

/**
 * Everything a wire-level test of transfers needs over the emulator: the emulator, its `MediaConn`
 * ({@link layerWithMediaConn}), and `MediaUpload` and `MediaDownload` whose default protocol is
 * `http` (built with `layerWith({ protocol: "http" })`; a call's options still override it). It
 * takes the `HttpClient` (`NodeHttpClient.layerUndici`), `MediaCrypto` and, for file uploads,
 * `FileSystem` from you.
 *
 * @example
 * ```ts
 * import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { MediaCrypto, MediaDownload, MediaUpload } from "effect-wa-media"
 * import * as CdnEmulator from "effect-wa-media/CdnEmulator"
 *
 * const WireWorld = CdnEmulator.layerTransfers({ ports: 2 }).pipe(
 *   Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, MediaCrypto.layerTest(), NodeFileSystem.layer))
 * )
 *
 * const roundTrip = Effect.gen(function*() {
 *   const uploads = yield* MediaUpload.MediaUpload
 *   const downloads = yield* MediaDownload.MediaDownload
 *   const uploaded = yield* uploads.upload(MediaUpload.bytes(new Uint8Array(1000)), { mediaType: "image" })
 *   return yield* downloads.bytes(uploaded) // over http://127.0.0.1:<port>, no protocol option needed
 * }).pipe(Effect.provide(WireWorld))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTransfers = (
  options: Options = {}
): Layer.Layer<
  CdnEmulator | MediaConn.MediaConn | MediaUpload.MediaUpload | MediaDownload.MediaDownload,
  ServeError,
  HttpClient.HttpClient | MediaCrypto | FileSystem.FileSystem
> =>
  Layer.mergeAll(MediaUpload.layerWith({ protocol: "http" }), MediaDownload.layerWith({ protocol: "http" })).pipe(
    Layer.provideMerge(layerWithMediaConn(options))
  )
