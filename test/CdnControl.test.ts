import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { CdnControl, MediaCrypto, MediaDownload, MediaEncryptor, MediaMessage, Sidecar } from "effect-wa-media"
import * as CdnEmulator from "effect-wa-media/CdnEmulator"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"

const FakeWorld = MediaDownload.layer.pipe(
  Layer.provideMerge(FakeCdn.layerWithMediaConn()),
  Layer.provideMerge(MediaCrypto.layerTest())
)

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff)

describe("CdnControl.incoming", () => {
  it.effect("stores another sender's image and returns the message that arrives", () =>
    Effect.gen(function*() {
      const cdn = yield* FakeCdn.FakeCdn
      const downloads = yield* MediaDownload.MediaDownload
      const photo = bytes(70_000)
      const received = yield* CdnControl.incoming(cdn, photo, { kind: "image", caption: "hi", width: 4, height: 3 })
      assert.deepStrictEqual(received.key.remoteJid, "15550001111@s.whatsapp.net")
      assert.isFalse(received.key.fromMe)
      assert.match(received.key.id, /^3EB0[0-9A-F]{16}$/)
      const image = received.message.imageMessage
      assert.strictEqual(image.caption, "hi")
      assert.strictEqual(image.width, 4)
      assert.strictEqual(image.fileLength, photo.length)
      assert.strictEqual(image.mimetype, "image/jpeg")
      // No upload request: the bot's test sees only what the bot does.
      assert.deepStrictEqual((yield* cdn.requests).map((r) => r.kind), [])
      assert.deepStrictEqual(yield* downloads.bytes(received), photo)
      assert.deepStrictEqual((yield* cdn.requests).map((r) => [r.kind, r.status]), [["media_conn", 200], [
        "download",
        200
      ]])
    }).pipe(Effect.provide(FakeWorld)))

  it.effect("gives video its streaming sidecar, ptv a ptvMessage, and takes the sender's id, JID and key", () =>
    Effect.gen(function*() {
      const cdn = yield* FakeCdn.FakeCdn
      const downloads = yield* MediaDownload.MediaDownload
      const clip = bytes(200_000)
      const mediaKey = new Uint8Array(32).fill(9)
      const video = yield* CdnControl.incoming(cdn, clip, {
        kind: "video",
        seconds: 3,
        from: "4915112345678@s.whatsapp.net",
        id: "3EB0CAFE",
        mediaKey,
        mediaKeyTimestamp: 1_700_000_123
      })
      assert.deepStrictEqual(video.key, { remoteJid: "4915112345678@s.whatsapp.net", fromMe: false, id: "3EB0CAFE" })
      assert.strictEqual(video.messageTimestamp, 1_700_000_123)
      assert.deepStrictEqual(video.message.videoMessage.mediaKey, mediaKey)
      const sidecar = video.message.videoMessage.streamingSidecar
      assert.isDefined(sidecar)
      const read = yield* MediaMessage.downloadable(video)
      // S = iv || blob: one 10-byte MAC per window of it.
      assert.strictEqual(
        sidecar!.length,
        Sidecar.windowCount(16 + MediaEncryptor.blobLength("video", clip.length)) * 10
      )
      assert.deepStrictEqual(Redacted.value(read.mediaKey!), mediaKey)
      assert.deepStrictEqual(yield* downloads.bytes(video), clip)

      const note = yield* CdnControl.incoming(cdn, bytes(5000), { kind: "ptv" })
      assert.deepStrictEqual(Object.keys(note.message), ["ptvMessage"])
      assert.deepStrictEqual(yield* downloads.bytes(note), bytes(5000))
    }).pipe(Effect.provide(FakeWorld)))

  it.effect("refuses a media key that is not 32 bytes", () =>
    Effect.gen(function*() {
      const cdn = yield* FakeCdn.FakeCdn
      const error = yield* Effect.flip(
        CdnControl.incoming(cdn, bytes(10), { kind: "document", mediaKey: new Uint8Array(16) })
      )
      assert.strictEqual(error._tag, "InvalidMediaKey")
    }).pipe(Effect.provide(FakeWorld)))

  it.effect("works on the emulator, over real loopback HTTP", () =>
    Effect.gen(function*() {
      const cdn = yield* CdnEmulator.CdnEmulator
      const downloads = yield* MediaDownload.MediaDownload
      const voice = bytes(30_000)
      const received = yield* CdnControl.incoming(cdn, voice, { kind: "audio", ptt: true, seconds: 2 })
      assert.isTrue(received.message.audioMessage.ptt)
      assert.deepStrictEqual(yield* downloads.bytes(received, { protocol: "http" }), voice)
    }).pipe(
      Effect.provide(MediaDownload.layer.pipe(
        Layer.provideMerge(CdnEmulator.layerWithMediaConn()),
        Layer.provideMerge(MediaCrypto.layerTest()),
        Layer.provide(NodeHttpClient.layerUndici)
      ))
    ))
})
