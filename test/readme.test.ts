// The README's "Testing your code" example, run exactly as it is written there (test/docs.test.ts
// checks that this file holds the README's block verbatim).
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { MediaCrypto, MediaDownload, MediaMessage, MediaUpload } from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"

const TestMedia = Layer.mergeAll(MediaUpload.layer, MediaDownload.layer).pipe(
  Layer.provideMerge(FakeCdn.layerWithMediaConn()),
  Layer.provide(MediaCrypto.layerTest()),
  Layer.provide(NodeFileSystem.layer)
)

describe("my media code", () => {
  it.effect("a photo survives a dropped connection", () =>
    Effect.gen(function*() {
      const uploads = yield* MediaUpload.MediaUpload
      const downloads = yield* MediaDownload.MediaDownload
      const cdn = yield* FakeCdn.FakeCdn

      const photo = new Uint8Array(300_000).fill(7)
      const uploaded = yield* uploads.upload(MediaUpload.bytes(photo), { mediaType: "image" })
      const message = yield* MediaMessage.image(uploaded, { caption: "hello" })

      // The primary host cuts the body after 100 kB: the download resumes with Range.
      yield* cdn.injectFault({ _tag: "Drop", afterBytes: 100_000, on: "download" })
      const received = yield* downloads.bytes(message)

      assert.deepStrictEqual(received, photo)
      const requests = (yield* cdn.requests).filter((r) => r.kind === "download")
      assert.deepStrictEqual(requests.map((r) => r.range), [undefined, "bytes=100000-"])
    }).pipe(Effect.provide(TestMedia)))

  it.effect("a stalled host is left for the next one after the stall timeout", () =>
    Effect.gen(function*() {
      const uploads = yield* MediaUpload.MediaUpload
      const downloads = yield* MediaDownload.MediaDownload
      const cdn = yield* FakeCdn.FakeCdn

      const uploaded = yield* uploads.upload(MediaUpload.bytes(new Uint8Array(50_000)), { mediaType: "document" })
      yield* cdn.injectFault({ _tag: "Stall", on: "download" }) // the primary sends nothing

      const fiber = yield* Effect.fork(downloads.bytes(uploaded, { stallTimeout: "10 seconds" }))
      yield* TestClock.adjust("10 seconds")
      const received = yield* Fiber.join(fiber)

      assert.strictEqual(received.length, 50_000)
      const hosts = (yield* cdn.requests).filter((r) => r.kind === "download").map((r) => r.host)
      assert.deepStrictEqual(hosts, [cdn.hosts[0], cdn.hosts[1]])
    }).pipe(Effect.provide(TestMedia)))
})
