/**
 * A fake CDN as an `HttpClient`: requests to its hosts (`https://<host>/…` or `http://<host>/…`)
 * are answered in memory, without sockets, by the same `HttpRouter` as the `CdnEmulator`, so URL
 * building, status handling, resumes and retries of a client are exercised for real. Faults surface as the
 * Node transport would surface them: a cut connection is a `RequestError` (before the response)
 * or a failing body stream (`ResponseError`, reason `Decode`); a stall is a body that never yields
 * its next chunk, until its request is aborted (its scope closed), which errors the body as undici
 * does. Time is Effect's `Clock`, so `TestClock` drives token and link expiry.
 *
 * @since 0.1.0
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import type * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as CdnControl from "../CdnControl.js"
import * as Cdn from "../internal/cdn/cdn.js"
import { Connection } from "../internal/cdn/connection.js"
import * as MediaConn from "../MediaConn.js"

/**
 * The control side of the fake: faults, recorded requests, stored blobs, media connections.
 *
 * @since 0.1.0
 * @category tags
 */
export class FakeCdn extends Context.Tag("effect-wa-media/testing/FakeCdn")<FakeCdn, CdnControl.CdnControl>() {}

/**
 * Options of the fake. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Host names, the primary first. Default `["mmg.whatsapp.net", "media-fallback.whatsapp.net"]`. */
  readonly hosts?: ReadonlyArray<string> | undefined
  /** Lifetime of an auth token. Default 21600 s. */
  readonly tokenTtlSeconds?: number | undefined
  /** Lifetime of a signed link (`oe`). Default 14 days. */
  readonly linkTtlSeconds?: number | undefined
  /** The `ttl` of a media connection. Default 300 s. */
  readonly mediaConnTtlSeconds?: number | undefined
}

/**
 * The default host names of the fake.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultHosts: ReadonlyArray<string> = ["mmg.whatsapp.net", "media-fallback.whatsapp.net"]

const nullBodyStatus = new Set([101, 103, 204, 205, 304])

// The client's request as the web `Request` the router reads, with the `Content-Length` undici
// would send for a body of known length.
const toWebRequest = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  runtime: Runtime.Runtime<never>
): Effect.Effect<Request, HttpClientError.RequestError> => {
  const send = (body: ReadableStream<Uint8Array> | Uint8Array | null, length: number | undefined) =>
    Effect.try({
      try: () => {
        const headers = new Headers(request.headers)
        if (length !== undefined && !headers.has("content-length")) headers.set("content-length", String(length))
        return new Request(url, { method: request.method, headers, body, duplex: "half" })
      },
      catch: (cause) => new HttpClientError.RequestError({ request, reason: "Encode", cause })
    })
  const body = request.body
  // A web `Request` takes no body on GET or HEAD, and the CDN reads none there.
  if (request.method === "GET" || request.method === "HEAD") return send(null, undefined)
  switch (body._tag) {
    case "Empty":
      return send(null, 0)
    case "Uint8Array":
      return send(body.body, body.contentLength)
    case "Stream":
      return send(Stream.toReadableStreamRuntime(body.stream, runtime), body.contentLength)
    case "Raw":
      if (typeof body.body === "string" || body.body instanceof Uint8Array) {
        const bytes = typeof body.body === "string" ? new TextEncoder().encode(body.body) : body.body
        return send(bytes, bytes.length)
      }
      break
    case "FormData":
      break
  }
  return Effect.fail(
    new HttpClientError.RequestError({ request, reason: "Encode", description: "the fake CDN takes byte bodies only" })
  )
}

// Like `Stream.toReadableStreamRuntime`, but pulled one chunk at a time: a failure only errors the
// readable once every byte before it was read, as a socket that breaks after K bytes delivers K.
// An aborted request errors it at once, even while a read waits, as undici does with its body.
const toReadableStream = (
  stream: Stream.Stream<Uint8Array, unknown>,
  runtime: Runtime.Runtime<never>,
  signal: AbortSignal
): ReadableStream<Uint8Array> => {
  const runFork = Runtime.runFork(runtime)
  const scope = Effect.runSync(Scope.make())
  let pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<unknown>> | undefined
  let fiber: Fiber.RuntimeFiber<Chunk.Chunk<Uint8Array>, Option.Option<unknown>> | undefined
  const release = () => runFork(Scope.close(scope, Exit.void))
  const stop = () => {
    const current = fiber
    fiber = undefined
    runFork(
      Effect.zipRight(current === undefined ? Effect.void : Fiber.interrupt(current), Scope.close(scope, Exit.void))
    )
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const onAbort = () => {
        stop()
        controller.error(signal.reason)
      }
      if (signal.aborted) onAbort()
      else signal.addEventListener("abort", onAbort, { once: true })
    },
    pull(controller) {
      return new Promise<void>((resolve) => {
        const current = runFork(Effect.suspend(() => {
          if (pull === undefined) {
            return Effect.flatMap(Scope.extend(Stream.toPull(stream), scope), (p) => {
              pull = p
              return p
            })
          }
          return pull
        }))
        fiber = current
        current.addObserver((exit) => {
          fiber = undefined
          if (signal.aborted) {
            // The abort has errored the readable already.
          } else if (Exit.isSuccess(exit)) {
            for (const bytes of exit.value) controller.enqueue(bytes)
          } else {
            const failure = Cause.failureOption(exit.cause)
            if (Option.isNone(failure)) controller.error(Cause.squash(exit.cause))
            else if (Option.isNone(failure.value)) controller.close()
            else controller.error(failure.value.value)
            release()
          }
          resolve()
        })
      })
    },
    cancel: stop
  }, { highWaterMark: 0 })
}

/** An error as undici reports it, with its code. */
const transportCause = (code: string, message: string): Error => Object.assign(new Error(message), { code })

const otherSideClosed = () => transportCause("UND_ERR_SOCKET", "other side closed")

// The router's answer as the client's response; a streamed body read one chunk at a time.
const toClientResponse = (
  request: HttpClientRequest.HttpClientRequest,
  response: HttpServerResponse.HttpServerResponse,
  runtime: Runtime.Runtime<never>,
  signal: AbortSignal
): HttpClientResponse.HttpClientResponse => {
  const body = response.body
  const web = body._tag !== "Stream"
    ? HttpServerResponse.toWeb(response)
    : new Response(nullBodyStatus.has(response.status) ? null : toReadableStream(body.stream, runtime, signal), {
      status: response.status,
      headers: response.headers
    })
  return HttpClientResponse.fromWeb(request, web)
}

// Runs the CDN's app in memory, as `NodeHttpServer` does over a socket (`HttpApp.toHandled`), in the
// client's fiber: interrupting the client interrupts the route, as a closed socket would.
const makeClient = (cdn: Cdn.Cdn): HttpClient.HttpClient =>
  HttpClient.make((request, url, signal) =>
    Effect.gen(function*() {
      if ((url.protocol !== "https:" && url.protocol !== "http:") || !cdn.control.hosts.includes(url.host)) {
        return yield* new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: transportCause("ENOTFOUND", `getaddrinfo ENOTFOUND ${url.hostname}`)
        })
      }
      const runtime = yield* Effect.runtime<never>()
      const serverRequest = HttpServerRequest.fromWeb(yield* toWebRequest(request, url, runtime))
      const reset = yield* Deferred.make<void>()
      const answer = yield* Deferred.make<HttpServerResponse.HttpServerResponse>()
      const served = HttpApp.toHandled(cdn.app, (_, response) => Deferred.succeed(answer, response)).pipe(
        Effect.provideService(HttpServerRequest.HttpServerRequest, serverRequest),
        Effect.provideService(Connection, {
          host: url.host,
          reset: Effect.zipRight(Deferred.succeed(reset, undefined), Effect.never),
          cut: Stream.fail(otherSideClosed()),
          stall: Stream.never
        }),
        // No server spans inside the client's trace: they would carry the upload's `auth`.
        HttpMiddleware.withTracerDisabledWhenEffect(() => true)
      )
      const response = yield* Effect.raceFirst(
        Effect.zipRight(served, Effect.map(Deferred.await(answer), Option.some)),
        Effect.as(Deferred.await(reset), Option.none())
      )
      if (Option.isNone(response)) {
        return yield* new HttpClientError.RequestError({ request, reason: "Transport", cause: otherSideClosed() })
      }
      return toClientResponse(request, response.value, runtime, signal)
    })
  )

/**
 * Builds a fake CDN: its control service and the `HttpClient` that reaches it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<{ readonly client: HttpClient.HttpClient; readonly cdn: FakeCdn["Type"] }> =>
  Effect.map(
    Cdn.make({
      hosts: options.hosts ?? defaultHosts,
      scheme: "https",
      tokenTtlSeconds: options.tokenTtlSeconds,
      linkTtlSeconds: options.linkTtlSeconds,
      mediaConnTtlSeconds: options.mediaConnTtlSeconds
    }),
    (cdn) => ({ client: makeClient(cdn), cdn: FakeCdn.of(cdn.control) })
  )

/**
 * Provides the fake's `HttpClient` and its `FakeCdn` control service.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
 *
 * const program = Effect.gen(function*() {
 *   const cdn = yield* FakeCdn.FakeCdn
 *   const client = yield* HttpClient.HttpClient
 *   const blob = yield* cdn.put(new Uint8Array([1, 2, 3]))
 *   yield* cdn.injectFault({ _tag: "Status", status: 503 })
 *   const response = yield* client.get(`https://${cdn.hosts[0]}${blob.directPath}`) // 503
 * }).pipe(Effect.provide(FakeCdn.layer()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient | FakeCdn> =>
  Layer.effectContext(
    Effect.map(make(options), ({ cdn, client }) =>
      Context.make(HttpClient.HttpClient, client).pipe(Context.add(FakeCdn, cdn)))
  )

/**
 * The URL the fake answers media connection fetches on: `GET https://<primary host>/media_conn`.
 *
 * @since 0.1.0
 * @category getters
 */
export const mediaConnUrl = (cdn: FakeCdn["Type"]): string => `https://${cdn.hosts[0]}/media_conn`

/**
 * A `MediaConn` whose every fetch asks the fake CDN for a fresh media connection (its hosts and a
 * valid auth token), as a WhatsApp socket's IQ would. The fetch goes through the `HttpClient` to
 * {@link mediaConnUrl}, so it is recorded in `requests` (kind `media_conn`) and faults with
 * `on: "media_conn"` apply to it: a `Status` fault fails the fetch with `MediaConnError`
 * `SourceFailed`, a `Stall` makes it time out after 30 seconds of Effect's `Clock`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMediaConn: Layer.Layer<MediaConn.MediaConn, never, FakeCdn | HttpClient.HttpClient> = Layer
  .unwrapEffect(Effect.map(FakeCdn, (cdn) => MediaConn.layerUrl(mediaConnUrl(cdn))))

/**
 * The whole fake world a transfer needs: the fake CDN's `HttpClient`, its `FakeCdn` control
 * service, and a `MediaConn` that fetches from it over that client ({@link layerMediaConn}).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { MediaCrypto, MediaDownload } from "effect-wa-media"
 * import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
 *
 * const TestDownloads = MediaDownload.layer.pipe(
 *   Layer.provideMerge(FakeCdn.layerWithMediaConn()),
 *   Layer.provide(MediaCrypto.layerTest())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithMediaConn = (
  options: Options = {}
): Layer.Layer<HttpClient.HttpClient | FakeCdn | MediaConn.MediaConn> =>
  Layer.provideMerge(layerMediaConn, layer(options))
