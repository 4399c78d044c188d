// Wire-level: MediaUpload against the loopback emulator through the real undici transport.
import { HttpClient } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { MediaConn, MediaCrypto, MediaDecryptor, MediaEncryptor, MediaMessage, MediaUpload } from "effect-wa-media"
import * as CdnEmulator from "effect-wa-media/CdnEmulator"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const setup = Effect.gen(function*() {
  const cdn = yield* CdnEmulator.make()
  const layer = MediaUpload.layer.pipe(
    Layer.provide(MediaConn.layerUrl(cdn.mediaConnUrl)),
    Layer.provideMerge(NodeHttpClient.layerUndici),
    Layer.provide([MediaCrypto.layer, NodeFileSystem.layer])
  )
  const context = yield* Layer.build(layer)
  return {
    cdn,
    uploads: Context.get(context, MediaUpload.MediaUpload),
    client: Context.get(context, HttpClient.HttpClient)
  }
})

const fetchBlob = (client: HttpClient.HttpClient, url: string) =>
  client.get(url).pipe(
    Effect.flatMap((response) => response.arrayBuffer),
    Effect.map((buffer) => new Uint8Array(buffer))
  )

describe("MediaUpload over the emulator", () => {
  it.scoped(
    "a 6 MiB file upload cut on its first try resumes at file_offset=N with the rest",
    () =>
      Effect.gen(function*() {
        const { cdn, client, uploads } = yield* setup
        const dir = mkdtempSync(join(tmpdir(), "wa-media-upload-emu-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const path = join(dir, "clip.mp4")
        const plaintext = new Uint8Array(randomBytes(6 * 1024 * 1024 + 123))
        writeFileSync(path, plaintext)
        const cut = 2_000_000
        // The probe (no body) takes the first Drop without effect; the upload is cut by the second.
        yield* cdn.injectFault({ _tag: "Drop", afterBytes: cut, times: 2, on: "upload" })
        const result = yield* uploads.upload(MediaUpload.file(path), { mediaType: "video", protocol: "http" })
        const blobLength = MediaEncryptor.blobLength("video", plaintext.length)

        const requests = (yield* cdn.requests).filter((r) => r.kind === "upload")
        assert.strictEqual(requests.length, 4)
        assert.include(requests[0]!.path, "resume=1")
        assert.strictEqual(requests[1]!.status, undefined)
        assert.strictEqual(requests[1]!.bytes, cut)
        assert.include(requests[2]!.path, "resume=1")
        assert.include(requests[3]!.path, `file_offset=${cut}`)
        assert.strictEqual(requests[3]!.status, 200)
        assert.strictEqual(requests[3]!.bytes, blobLength - cut)
        assert.notInclude(JSON.stringify(requests), "auth=")

        // What the CDN stored is the whole blob: the built message downloads back and verifies.
        const message = yield* MediaMessage.video(result, { mimetype: "video/mp4" })
        const media = message.videoMessage!
        const blob = yield* fetchBlob(client, `${cdn.baseUrl}${media.directPath}`)
        assert.strictEqual(blob.length, blobLength)
        const decrypted = yield* MediaDecryptor.decryptBytes(blob, {
          mediaType: "video",
          mediaKey: media.mediaKey as Uint8Array,
          fileSha256: media.fileSha256 as Uint8Array,
          fileEncSha256: media.fileEncSha256 as Uint8Array,
          fileLength: plaintext.length
        })
        assert.isTrue(Buffer.from(decrypted).equals(plaintext))
      }),
    { timeout: 30_000 }
  )

  it.scoped("a 503 at the primary and a revoked credential: refresh, failover, success", () =>
    Effect.gen(function*() {
      const { cdn, client, uploads } = yield* setup
      const plaintext = new Uint8Array(randomBytes(100_000))
      yield* uploads.upload(MediaUpload.bytes(new Uint8Array(1)), { mediaType: "image", protocol: "http" })
      yield* cdn.revokeAuth
      yield* cdn.injectFault({ _tag: "Status", status: 503, times: 2 })
      yield* cdn.clearRequests
      const result = yield* uploads.upload(MediaUpload.bytes(plaintext), { mediaType: "image", protocol: "http" })
      const requests = (yield* cdn.requests).filter((r) => r.kind === "upload")
      assert.deepStrictEqual(requests.map((r) => [r.host, r.status]), [
        [cdn.hosts[0], 503],
        [cdn.hosts[1], 401],
        [cdn.hosts[0], 503],
        [cdn.hosts[1], 200]
      ])
      const blob = yield* fetchBlob(client, result.url)
      const decrypted = yield* MediaDecryptor.decryptBytes(blob, {
        mediaType: "image",
        mediaKey: result.mediaKey,
        fileEncSha256: result.fileEncSha256
      })
      assert.isTrue(Buffer.from(decrypted).equals(plaintext))
    }))
})
