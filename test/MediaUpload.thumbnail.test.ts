// Server-hosted thumbnails: uploaded under the parent's key and its `*-thumbnail` type, put into
// the message by the builders, and downloaded back through the existing API.
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { MediaCrypto, MediaDownload, MediaMessage, MediaUpload } from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import { pseudoRandomBytes } from "./bytes.js"

const World = Layer.mergeAll(MediaUpload.layer, MediaDownload.layer).pipe(
  Layer.provideMerge(FakeCdn.layerWithMediaConn()),
  Layer.provideMerge(MediaCrypto.layerTest()),
  Layer.provide(NodeFileSystem.layer)
)

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b)

describe("server-hosted thumbnails", () => {
  it.effect("an image, a video and a document carry one that downloads back with { thumbnail: true }", () =>
    Effect.gen(function*() {
      const uploads = yield* MediaUpload.MediaUpload
      const downloads = yield* MediaDownload.MediaDownload
      const cdn = yield* FakeCdn.FakeCdn
      const build = {
        image: (media: MediaUpload.UploadResult, serverThumbnail: MediaUpload.UploadResult) =>
          Effect.map(MediaMessage.image(media, { serverThumbnail }), (m) => [m, m.imageMessage] as const),
        video: (media: MediaUpload.UploadResult, serverThumbnail: MediaUpload.UploadResult) =>
          Effect.map(MediaMessage.video(media, { serverThumbnail }), (m) => [m, m.videoMessage] as const),
        document: (media: MediaUpload.UploadResult, serverThumbnail: MediaUpload.UploadResult) =>
          Effect.map(MediaMessage.document(media, { serverThumbnail }), (m) => [m, m.documentMessage] as const)
      }
      for (const type of ["image", "video", "document"] as const) {
        yield* cdn.clearRequests
        const media = pseudoRandomBytes(7, 90_000)
        const preview = pseudoRandomBytes(13, 3_000)
        const uploaded = yield* uploads.upload(MediaUpload.bytes(media), { mediaType: type })
        const thumbnail = yield* MediaUpload.uploadThumbnail(uploaded, MediaUpload.bytes(preview))
        assert.strictEqual(thumbnail.mediaType, `${type}-thumbnail`)
        assert.isTrue(same(Redacted.value(thumbnail.mediaKey), Redacted.value(uploaded.mediaKey)))
        const uploadPaths = (yield* cdn.requests).filter((r) => r.kind === "upload").map((r) => r.path.split("/")[2])
        assert.deepStrictEqual(uploadPaths, [type, `thumbnail-${type}`])

        const [message, content] = yield* build[type](uploaded, thumbnail)
        assert.strictEqual(content.thumbnailDirectPath, thumbnail.directPath)
        assert.isTrue(same(content.thumbnailSha256!, thumbnail.fileSha256))
        assert.isTrue(same(content.thumbnailEncSha256!, thumbnail.fileEncSha256))
        // The thumbnail's keys differ from the media's: the same key under another HKDF info.
        assert.isFalse(same(thumbnail.fileEncSha256, uploaded.fileEncSha256))

        assert.isTrue(same(yield* downloads.bytes(message, { thumbnail: true }), preview))
        assert.isTrue(same(yield* downloads.bytes(message), media))
        // It survives a JSON round trip of the message, as a bot's queue would carry it.
        const json = JSON.parse(
          JSON.stringify(message, (_, v) => v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v)
        )
        assert.isTrue(same(yield* downloads.bytes(json, { thumbnail: true }), preview))
      }
    }).pipe(Effect.provide(World)))

  it.effect("a ptv takes a video thumbnail, and forwarding keeps it", () =>
    Effect.gen(function*() {
      const uploads = yield* MediaUpload.MediaUpload
      const downloads = yield* MediaDownload.MediaDownload
      const uploaded = yield* uploads.upload(MediaUpload.bytes(pseudoRandomBytes(3, 20_000)), { mediaType: "video" })
      const preview = pseudoRandomBytes(5, 500)
      const serverThumbnail = yield* MediaUpload.uploadThumbnail(uploaded, MediaUpload.bytes(preview))
      const note = yield* MediaMessage.ptv(uploaded, { serverThumbnail })
      const forwarded = yield* MediaMessage.forward(note)
      assert.isTrue(same(yield* downloads.bytes(forwarded, { thumbnail: true }), preview))
    }).pipe(Effect.provide(World)))

  it.effect("raw parameters with { thumbnail: true } name the thumbnail's own path and hashes under the parent type", () =>
    Effect.gen(function*() {
      const uploads = yield* MediaUpload.MediaUpload
      const downloads = yield* MediaDownload.MediaDownload
      const uploaded = yield* uploads.upload(MediaUpload.bytes(pseudoRandomBytes(3, 5_000)), { mediaType: "document" })
      const preview = pseudoRandomBytes(9, 700)
      const thumbnail = yield* MediaUpload.uploadThumbnail(uploaded, MediaUpload.bytes(preview))
      const params = {
        type: "document",
        directPath: thumbnail.directPath,
        mediaKey: Buffer.from(Redacted.value(uploaded.mediaKey)).toString("base64"),
        fileSha256: thumbnail.fileSha256,
        fileEncSha256: thumbnail.fileEncSha256
      }
      assert.isTrue(same(yield* downloads.bytes(params, { thumbnail: true }), preview))
      // Under the parent's own type the keys differ, so the same blob fails its check.
      const error = yield* Effect.flip(downloads.bytes(params))
      assert.strictEqual(error._tag, "MediaIntegrityError")
      const noThumbnail = yield* Effect.flip(downloads.bytes({ ...params, type: "audio" }, { thumbnail: true }))
      assert.strictEqual(noThumbnail._tag, "MediaMessageError")
    }).pipe(Effect.provide(World)))

  it.effect("refuses a thumbnail under another key or of another type, and a parent without thumbnails", () =>
    Effect.gen(function*() {
      const uploads = yield* MediaUpload.MediaUpload
      const cdn = yield* FakeCdn.FakeCdn
      const image = yield* uploads.upload(MediaUpload.bytes(pseudoRandomBytes(3, 1000)), { mediaType: "image" })
      const other = yield* uploads.upload(MediaUpload.bytes(pseudoRandomBytes(5, 1000)), { mediaType: "image" })
      const foreign = yield* MediaUpload.uploadThumbnail(other, MediaUpload.bytes(pseudoRandomBytes(1, 100)))
      const wrongKey = yield* Effect.flip(MediaMessage.image(image, { serverThumbnail: foreign }))
      assert.strictEqual(wrongKey.reason, "InvalidField")
      assert.include(wrongKey.message, "own key")
      const document = yield* uploads.upload(MediaUpload.bytes(pseudoRandomBytes(7, 1000)), { mediaType: "document" })
      const documentThumbnail = yield* MediaUpload.uploadThumbnail(
        document,
        MediaUpload.bytes(pseudoRandomBytes(1, 100))
      )
      const wrongType = yield* Effect.flip(MediaMessage.image(image, { serverThumbnail: documentThumbnail }))
      assert.strictEqual(wrongType.reason, "InvalidField")
      assert.include(wrongType.message, "image-thumbnail")
      const notAThumbnail = yield* Effect.flip(MediaMessage.image(image, { serverThumbnail: image }))
      assert.strictEqual(notAThumbnail.reason, "InvalidField")

      const audio = yield* uploads.upload(MediaUpload.bytes(pseudoRandomBytes(9, 1000)), { mediaType: "audio" })
      yield* cdn.clearRequests
      const noThumbnail = yield* Effect.flip(
        MediaUpload.uploadThumbnail(audio, MediaUpload.bytes(pseudoRandomBytes(1, 100)))
      )
      assert.strictEqual(noThumbnail._tag, "MediaMessageError")
      assert.deepStrictEqual(yield* cdn.requests, [])
    }).pipe(Effect.provide(World)))
})
