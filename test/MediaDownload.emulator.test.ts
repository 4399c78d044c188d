// Wire-level downloads: the real undici transport against the loopback CDN emulator.
import type { HttpClient } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Effect, Layer, Stream } from "effect"
import type { Scope } from "effect"
import { MediaConn, MediaCrypto, MediaDownload, MediaEncryptor } from "effect-wa-media"
import * as CdnEmulator from "effect-wa-media/CdnEmulator"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pseudoRandomBytes } from "./bytes.js"

const worldOver = (client: Layer.Layer<HttpClient.HttpClient>) =>
  Effect.gen(function*() {
    const cdn = yield* CdnEmulator.make()
    const context = yield* Layer.build(
      MediaDownload.layer.pipe(
        Layer.provide(MediaConn.layerUrl(cdn.mediaConnUrl)),
        Layer.provide(Layer.mergeAll(client, MediaCrypto.layer))
      )
    )
    return { cdn, download: Context.get(context, MediaDownload.MediaDownload) }
  }) satisfies Effect.Effect<unknown, unknown, Scope.Scope>

const world = worldOver(NodeHttpClient.layerUndici)

const prepare = (cdn: CdnEmulator.CdnEmulator["Type"], length: number) =>
  Effect.gen(function*() {
    const plaintext = pseudoRandomBytes(length, length)
    const mediaKey = new Uint8Array(randomBytes(32))
    const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey })
    const stored = yield* cdn.put(blob, { uploadPath: "/mms/video" })
    const message = {
      videoMessage: {
        url: stored.url,
        directPath: stored.directPath,
        mediaKey,
        fileSha256: result.fileSha256,
        fileEncSha256: result.fileEncSha256,
        fileLength: result.fileLength
      }
    }
    return { plaintext, blob, message }
  })

const downloads = (cdn: CdnEmulator.CdnEmulator["Type"]) =>
  Effect.map(cdn.requests, (requests) => requests.filter((r) => r.kind === "download"))

const http = { protocol: "http" } as const

describe("MediaDownload over the emulator", () => {
  it.scoped("downloads a message to bytes, as a stream and to a file", () =>
    Effect.gen(function*() {
      const { cdn, download } = yield* world
      const { message, plaintext } = yield* prepare(cdn, 3_000_000)
      assert.deepStrictEqual(yield* download.bytes(message, http), plaintext)
      const chunks = yield* Stream.runCollect(download.stream(message, http))
      assert.deepStrictEqual(Buffer.concat(Chunk.toReadonlyArray(chunks)), Buffer.from(plaintext))
      const dir = mkdtempSync(join(tmpdir(), "wa-media-emulator-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const summary = yield* download.toFile(message, join(dir, "clip.mp4"), http).pipe(
        Effect.provide(NodeFileSystem.layer)
      )
      assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "clip.mp4"))), plaintext)
      assert.deepStrictEqual(summary, {
        host: cdn.hosts[0]!,
        fileLength: plaintext.length,
        blobLength: MediaEncryptor.blobLength("video", plaintext.length),
        attempts: 1,
        resumes: 0,
        restarts: 0
      })
    }))

  it.scoped("resumes a dropped connection with Range, fetching no byte twice", () =>
    Effect.gen(function*() {
      const { cdn, download } = yield* world
      const { blob, message, plaintext } = yield* prepare(cdn, 2_000_000)
      yield* cdn.injectFault({ _tag: "Drop", afterBytes: 777_777 })
      assert.deepStrictEqual(yield* download.bytes(message, http), plaintext)
      const requests = yield* downloads(cdn)
      assert.deepStrictEqual(requests.map((r) => [r.status, r.range]), [[200, undefined], [206, "bytes=777777-"]])
      assert.strictEqual(requests.reduce((n, r) => n + r.bytes, 0), blob.length)
    }))

  it.scoped("an integrity failure on one host, then success on the next; failure leaves no file", () =>
    Effect.gen(function*() {
      const { cdn, download } = yield* world
      const { message, plaintext } = yield* prepare(cdn, 500_000)
      yield* cdn.injectFault({ _tag: "FlipByte", offset: 99 })
      assert.deepStrictEqual(yield* download.bytes(message, http), plaintext)
      assert.deepStrictEqual((yield* downloads(cdn)).map((r) => r.host), cdn.hosts)
      const dir = mkdtempSync(join(tmpdir(), "wa-media-emulator-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      for (const host of cdn.hosts) yield* cdn.injectFault({ _tag: "Status", status: 503 }, { host })
      const error = yield* Effect.flip(
        download.toFile(message, join(dir, "out"), http).pipe(Effect.provide(NodeFileSystem.layer))
      )
      assert.strictEqual(error._tag === "MediaDownloadError" && error.reason, "AllHostsFailed")
      assert.deepStrictEqual(readdirSync(dir), [])
    }))

  it.live.each([["undici", NodeHttpClient.layerUndici], ["node:http", NodeHttpClient.layer]] as const)(
    "a stalled host is given up after the stall timeout and the next one resumes (%s)",
    ([, client]) =>
      Effect.scoped(Effect.gen(function*() {
        const { cdn, download } = yield* worldOver(client)
        const { message, plaintext } = yield* prepare(cdn, 1_000_000)
        const options = { ...http, stallTimeout: "300 millis" } as const
        yield* cdn.injectFault({ _tag: "Stall", afterBytes: 300_000 })
        assert.deepStrictEqual(yield* download.bytes(message, options), plaintext)
        // A stream's reader waits on the stalled body in its own fiber: aborting the request ends it.
        yield* cdn.injectFault({ _tag: "Stall", afterBytes: 300_000 })
        const streamed = yield* Stream.runCollect(download.stream(message, options))
        assert.deepStrictEqual(Buffer.concat(Chunk.toReadonlyArray(streamed)), Buffer.from(plaintext))
        const requests = yield* downloads(cdn)
        assert.deepStrictEqual(requests.map((r) => [r.host, r.range]), [
          [cdn.hosts[0]!, undefined],
          [cdn.hosts[1]!, "bytes=300000-"],
          [cdn.hosts[0]!, undefined],
          [cdn.hosts[1]!, "bytes=300000-"]
        ])
      }))
  )
})
