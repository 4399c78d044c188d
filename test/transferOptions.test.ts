import { type FileSystem, HttpClient, type HttpClientRequest } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Config, type ConfigError, ConfigProvider, Effect, Fiber, Layer, Ref, Schedule, TestClock } from "effect"
import { type MediaConn, MediaCrypto, MediaDownload, MediaUpload } from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"

type Needs = HttpClient.HttpClient | MediaConn.MediaConn | MediaCrypto.MediaCrypto | FileSystem.FileSystem

/**
 * The fake CDN world with the transfer services built by `build`, and every request the services
 * sent as it left them (URL and headers).
 */
const world = (
  downloads: Layer.Layer<MediaDownload.MediaDownload, ConfigError.ConfigError, Needs>,
  uploads: Layer.Layer<MediaUpload.MediaUpload, never, Needs> = MediaUpload.layer
) =>
  Effect.gen(function*() {
    const sent = yield* Ref.make<ReadonlyArray<HttpClientRequest.HttpClientRequest>>([])
    // Recorded where the request is sent, after every transformation the library applies.
    const recording = Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (inner) =>
        HttpClient.make((request) =>
          Effect.zipRight(Ref.update(sent, (all) => [...all, request]), inner.execute(request))
        ))
    )
    const services = Layer.mergeAll(downloads, uploads).pipe(
      Layer.provide(recording),
      Layer.provideMerge(FakeCdn.layerWithMediaConn()),
      Layer.provide(Layer.mergeAll(MediaCrypto.layerTest(), NodeFileSystem.layer))
    )
    return { services, sent: Ref.get(sent) }
  })

const photo = Buffer.alloc(50_000, 3)

const uploadPhoto = Effect.flatMap(
  MediaUpload.MediaUpload,
  (uploads) => uploads.upload(MediaUpload.bytes(photo), { mediaType: "image" })
)

/** What a message of the upload carries, without the `url` (so that the hosts are tried). */
const paramsOf = (uploaded: MediaUpload.UploadResult) => ({
  type: uploaded.mediaType,
  directPath: uploaded.directPath,
  mediaKey: uploaded.mediaKey,
  fileSha256: uploaded.fileSha256,
  fileEncSha256: uploaded.fileEncSha256
})

describe("layer-time options", () => {
  it.effect("layerWith sets defaults for every download; a call's own options override them", () =>
    Effect.gen(function*() {
      const { sent, services } = yield* world(
        MediaDownload.layerWith({ protocol: "http", headers: { "x-app": "bot" } })
      )
      yield* Effect.gen(function*() {
        const uploaded = yield* uploadPhoto
        const downloads = yield* MediaDownload.MediaDownload
        assert.isTrue(Buffer.from(yield* downloads.bytes(paramsOf(uploaded))).equals(photo))
        assert.isTrue(
          Buffer.from(yield* downloads.bytes(paramsOf(uploaded), { protocol: "https", headers: { "x-app": "call" } }))
            .equals(photo)
        )
      }).pipe(Effect.provide(services))
      const gets = (yield* sent).filter((request) => request.method === "GET")
      assert.deepStrictEqual(gets.map((r) => [r.url.split(":")[0], r.headers["x-app"], r.headers["origin"]]), [
        ["http", "bot", "https://web.whatsapp.com"],
        ["https", "call", "https://web.whatsapp.com"]
      ])
    }))

  it.effect("an explicit undefined in a call keeps the layer's default", () =>
    Effect.gen(function*() {
      const { sent, services } = yield* world(MediaDownload.layerWith({ protocol: "http" }))
      yield* Effect.gen(function*() {
        const uploaded = yield* uploadPhoto
        yield* (yield* MediaDownload.MediaDownload).bytes(paramsOf(uploaded), { protocol: undefined })
      }).pipe(Effect.provide(services))
      const gets = (yield* sent).filter((request) => request.method === "GET")
      assert.isTrue(gets[0]!.url.startsWith("http://"))
    }))

  it.effect("layerWith sets defaults for every upload: headers beside the Origin", () =>
    Effect.gen(function*() {
      const { sent, services } = yield* world(
        MediaDownload.layer,
        MediaUpload.layerWith({ headers: { "x-app": "bot", origin: "https://evil.example" } })
      )
      yield* Effect.provide(uploadPhoto, services)
      const posts = (yield* sent).filter((request) => request.method === "POST")
      assert.strictEqual(posts.length, 1)
      // Origin is always WhatsApp Web's, whatever the headers say.
      assert.deepStrictEqual([posts[0]!.headers["x-app"], posts[0]!.headers["origin"]], [
        "bot",
        "https://web.whatsapp.com"
      ])
    }))

  it.effect("layerConfig reads the defaults from Config", () =>
    Effect.gen(function*() {
      const downloads = MediaDownload.layerConfig({
        protocol: Config.literal("https", "http")("CDN_PROTOCOL"),
        stallTimeout: Config.duration("CDN_STALL").pipe(Config.withDefault("30 seconds")),
        // A service-wide option reads from Config too (a failing read fails the layer, below).
        concurrency: Config.integer("CDN_DOWNLOADS").pipe(Config.withDefault(16))
      })
      const { sent, services } = yield* world(downloads)
      yield* Effect.gen(function*() {
        const uploaded = yield* uploadPhoto
        yield* (yield* MediaDownload.MediaDownload).bytes(paramsOf(uploaded))
      }).pipe(
        Effect.provide(services),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["CDN_PROTOCOL", "http"], ["CDN_DOWNLOADS", "2"]]))
        )
      )
      const gets = (yield* sent).filter((request) => request.method === "GET")
      assert.isTrue(gets[0]!.url.startsWith("http://"))

      // A config that does not read fails the layer with its ConfigError.
      const failed = yield* Effect.gen(function*() {
        yield* MediaDownload.MediaDownload
      }).pipe(
        Effect.provide(services),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CDN_PROTOCOL", "gopher"]]))),
        Effect.flip
      )
      assert.include(String(failed), "CDN_PROTOCOL")
      const notANumber = yield* Effect.gen(function*() {
        yield* MediaDownload.MediaDownload
      }).pipe(
        Effect.provide(services),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["CDN_PROTOCOL", "http"], ["CDN_DOWNLOADS", "many"]]))
        ),
        Effect.flip
      )
      assert.include(String(notANumber), "CDN_DOWNLOADS")
    }))
})

describe("the retry Schedule", () => {
  it.effect("spaces the host failover: the next host is tried only after the delay", () =>
    Effect.gen(function*() {
      const { services } = yield* world(MediaDownload.layerWith({ retry: Schedule.spaced("5 seconds") }))
      yield* Effect.gen(function*() {
        const uploaded = yield* uploadPhoto
        const cdn = yield* FakeCdn.FakeCdn
        yield* cdn.injectFault({ _tag: "Status", status: 503, on: "download" })
        const fiber = yield* Effect.fork((yield* MediaDownload.MediaDownload).bytes(paramsOf(uploaded)))
        const downloadHosts = Effect.map(
          cdn.requests,
          (requests) => requests.filter((r) => r.kind === "download").map((r) => r.host)
        )
        yield* Effect.repeatN(Effect.yieldNow(), 200)
        assert.deepStrictEqual(yield* downloadHosts, [cdn.hosts[0]])
        yield* TestClock.adjust("4 seconds")
        yield* Effect.repeatN(Effect.yieldNow(), 200)
        assert.deepStrictEqual(yield* downloadHosts, [cdn.hosts[0]])
        yield* TestClock.adjust("1 second")
        assert.isTrue(Buffer.from(yield* Fiber.join(fiber)).equals(photo))
        assert.deepStrictEqual(yield* downloadHosts, [cdn.hosts[0], cdn.hosts[1]])
      }).pipe(Effect.provide(services))
    }))

  it.effect("is fed each failed try, and ends the failover when it ends", () =>
    Effect.gen(function*() {
      const seen: Array<number | undefined> = []
      // Only 5xx go to the next host; a 429 ends the upload at once.
      const retry = Schedule.recurWhile((attempt: { readonly status?: number | undefined }) => {
        seen.push(attempt.status)
        return (attempt.status ?? 0) >= 500
      })
      const { services } = yield* world(MediaDownload.layer, MediaUpload.layerWith({ retry }))
      const error = yield* Effect.gen(function*() {
        const cdn = yield* FakeCdn.FakeCdn
        yield* cdn.injectFault({ _tag: "Status", status: 429, on: "upload" })
        return yield* uploadPhoto
      }).pipe(Effect.provide(services), Effect.flip)
      assert.strictEqual(error._tag, "MediaUploadError")
      assert.deepStrictEqual(error._tag === "MediaUploadError" && error.attempts.map((a) => a.status), [429])
      assert.deepStrictEqual(seen, [429])

      // The same policy per call on a download: a 503 goes on to the next host.
      const received = yield* Effect.gen(function*() {
        const uploaded = yield* uploadPhoto
        yield* (yield* FakeCdn.FakeCdn).injectFault({ _tag: "Status", status: 503, on: "download" })
        return yield* (yield* MediaDownload.MediaDownload).bytes(paramsOf(uploaded), { retry })
      }).pipe(Effect.provide(services))
      assert.isTrue(Buffer.from(received).equals(photo))
      assert.deepStrictEqual(seen, [429, 503])
    }))

  it.effect("never goes past the media connection's hosts, whatever it says", () =>
    Effect.gen(function*() {
      const { services } = yield* world(MediaDownload.layerWith({ retry: Schedule.forever }))
      const error = yield* Effect.gen(function*() {
        const uploaded = yield* uploadPhoto
        const cdn = yield* FakeCdn.FakeCdn
        for (const host of cdn.hosts) yield* cdn.injectFault({ _tag: "Status", status: 503, on: "download" }, { host })
        return yield* (yield* MediaDownload.MediaDownload).bytes(paramsOf(uploaded))
      }).pipe(Effect.provide(services), Effect.flip)
      assert.strictEqual(error._tag === "MediaDownloadError" && error.reason, "AllHostsFailed")
      assert.strictEqual(error._tag === "MediaDownloadError" && error.attempts.length, 2)
    }))
})
