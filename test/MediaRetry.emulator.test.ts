// Expired media end to end on the wire: the real undici transport against the loopback CDN
// emulator, a media connection over its /media_conn, and the simulated sender's phone.
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { MediaConn, MediaCrypto, MediaDownload, MediaMessage } from "effect-wa-media"
import * as CdnEmulator from "effect-wa-media/CdnEmulator"
import * as FakePhone from "effect-wa-media/testing/FakePhone"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pseudoRandomBytes } from "./bytes.js"

const world = Effect.gen(function*() {
  const cdn = yield* CdnEmulator.make()
  const context = yield* Layer.build(
    MediaDownload.layerWith({ protocol: "http" }).pipe(
      Layer.provideMerge(FakePhone.layerFor(CdnEmulator.CdnEmulator)),
      Layer.provide(MediaConn.layerUrl(cdn.mediaConnUrl)),
      Layer.provide(Layer.mergeAll(
        NodeHttpClient.layerUndici,
        MediaCrypto.layerTest(),
        Layer.succeed(CdnEmulator.CdnEmulator, cdn)
      ))
    )
  )
  return {
    cdn,
    download: Context.get(context, MediaDownload.MediaDownload),
    phone: Context.get(context, FakePhone.FakePhone)
  }
}) satisfies Effect.Effect<unknown, unknown, Scope.Scope>

const statuses = (cdn: CdnEmulator.CdnEmulator["Type"]) =>
  Effect.map(cdn.requests, (requests) => requests.filter((r) => r.kind === "download").map((r) => r.status))

describe("MediaDownload with MediaRetry over the emulator", () => {
  it.scoped("an expired photo comes back by itself and lands in a file; the updated message needs no phone", () =>
    Effect.gen(function*() {
      const { cdn, download, phone } = yield* world
      const photo = pseudoRandomBytes(3, 1_500_000)
      const sent = yield* phone.sendMedia(photo, { type: "image" })
      yield* cdn.expireLinks
      const dir = mkdtempSync(join(tmpdir(), "wa-media-retry-emulator-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const path = join(dir, "photo.jpg")
      const summary = yield* download.toFile(sent, path).pipe(Effect.provide(NodeFileSystem.layer))
      assert.deepStrictEqual(new Uint8Array(readFileSync(path)), photo)
      assert.deepStrictEqual(yield* statuses(cdn), [410, 410, 200])
      assert.strictEqual(summary.host, cdn.hosts[0])
      const reupload = summary.reupload!
      assert.strictEqual((yield* MediaMessage.downloadable(reupload.source)).directPath, reupload.directPath)
      assert.deepStrictEqual(yield* download.bytes(reupload.source), photo)
      assert.deepStrictEqual(yield* statuses(cdn), [410, 410, 200, 200])
      assert.strictEqual((yield* phone.requests).length, 1)
    }))

  it.scoped("media the CDN lost and the phone no longer has ends NotFound, the phone's answer listed", () =>
    Effect.gen(function*() {
      const { cdn, download, phone } = yield* world
      const sent = yield* phone.sendMedia(pseudoRandomBytes(4, 10_000), { type: "document" })
      yield* cdn.remove((yield* MediaMessage.downloadable(sent)).directPath!)
      yield* phone.answerWith("NotOnPhone")
      const error = yield* Effect.flip(download.bytes(sent))
      assert.strictEqual(error._tag === "MediaDownloadError" && error.reason, "NotFound")
      assert.deepStrictEqual(
        error._tag === "MediaDownloadError" && error.attempts.map((a) => a.status ?? a.host),
        [404, 404, "sender's phone"]
      )
      assert.strictEqual((yield* phone.requests).length, 1)
    }))
})
