import { HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import type { HttpBody } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Deferred, Effect, Fiber, Layer, Redacted, Stream, TestClock } from "effect"
import {
  MediaConn,
  MediaCrypto,
  MediaDecryptor,
  MediaEncryptor,
  MediaKeys,
  MediaMessage,
  MediaUpload,
  Sidecar
} from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import { createHash } from "node:crypto"
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Turns from "../src/internal/turns.js"
import { concat } from "./bytes.js"

const RESUME = 5 * 1024 * 1024

/** What the test's client wrapper saw of one request before the fake CDN got it. */
interface Seen {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: Readonly<Record<string, string>>
  readonly body: Array<Uint8Array>
}

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest())
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b)

const pattern = (n: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i += 4096) {
    x = (x * 1103515245 + 12345) >>> 0
    out.fill(x & 0xff, i, Math.min(n, i + 4096))
    out[i] = (x >>> 8) & 0xff
  }
  return out
}

type Intercept = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL
) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> | undefined

const recordBody = (body: HttpBody.HttpBody, into: Array<Uint8Array>): HttpBody.HttpBody =>
  body._tag === "Stream"
    ? { ...body, stream: Stream.tap(body.stream, (bytes) => Effect.sync(() => into.push(bytes))) }
    : body._tag === "Uint8Array"
    ? (into.push(body.body), body)
    : body

/**
 * The fake CDN, behind a client that records every request (headers and body bytes as sent) and
 * may answer some requests itself (`intercept`); `crypto` runs the ciphers and hashes.
 */
const setup = (
  intercept?: Intercept,
  crypto: Layer.Layer<MediaCrypto.MediaCrypto> = MediaCrypto.layerTest("upload"),
  options: MediaUpload.LayerOptions = {},
  onMediaConnFetch: Effect.Effect<void> = Effect.void
) =>
  Effect.gen(function*() {
    const { cdn, client } = yield* FakeCdn.make()
    const seen: Array<Seen> = []
    const recording = HttpClient.make((request, url) => {
      const body: Array<Uint8Array> = []
      seen.push({
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        headers: { ...request.headers },
        body
      })
      const answered = intercept?.(request, url)
      if (answered !== undefined) return answered
      return client.execute(
        HttpClientRequest.setBody(request, recordBody(request.body, body)).pipe(
          HttpClientRequest.setHeaders(request.headers)
        )
      )
    })
    const layer = MediaUpload.layerWith(options).pipe(
      Layer.provide(
        MediaConn.layer(Effect.zipRight(onMediaConnFetch, Effect.flatMap(cdn.mediaConn, MediaConn.decodeJson)))
      ),
      Layer.provide(Layer.succeed(HttpClient.HttpClient, recording)),
      Layer.provide([crypto, NodeFileSystem.layer])
    )
    const context = yield* Layer.build(layer)
    const uploads = Context.get(context, MediaUpload.MediaUpload)
    const uploadRequests = () => seen.filter((s) => s.method === "POST" && s.path.startsWith("/"))
    return { cdn, client, seen, uploads, uploadRequests }
  })

/** Fetches a stored blob back from the fake by its direct path. */
const fetchBlob = (client: HttpClient.HttpClient, host: string, directPath: string) =>
  client.get(`https://${host}${directPath}`).pipe(
    Effect.flatMap((response) => response.arrayBuffer),
    Effect.map((buffer) => new Uint8Array(buffer))
  )

/** Every POST carried a Content-Length equal to the bytes of its body. */
const assertContentLengths = (seen: ReadonlyArray<Seen>) => {
  for (const request of seen.filter((s) => s.method === "POST")) {
    const declared = request.headers["content-length"]
    assert.isDefined(declared, `${request.path} has a Content-Length`)
    assert.strictEqual(Number(declared), concat(request.body).length, request.path)
    assert.strictEqual(request.headers["origin"], "https://web.whatsapp.com")
  }
}

const key = new Uint8Array(32).fill(7)

describe("MediaUpload", () => {
  it.scoped("uploads bytes: one POST whose body is the blob, with Content-Length, and the message downloads back", () =>
    Effect.gen(function*() {
      const { cdn, client, seen, uploads } = yield* setup()
      const plaintext = pattern(300_000)
      const result = yield* uploads.upload(MediaUpload.bytes(plaintext), {
        mediaType: "image",
        mediaKey: key,
        mediaKeyTimestamp: 1_700_000_000
      })
      const expected = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey: key })
      assert.strictEqual(seen.length, 1)
      const [request] = seen
      const token = b64url(expected.result.fileEncSha256)
      assert.strictEqual(request!.path, `/mms/image/${token}`)
      assert.strictEqual(request!.query.get("token"), token)
      assert.strictEqual(request!.headers["content-type"], "application/octet-stream")
      assert.isTrue(same(concat(request!.body), expected.blob))
      assertContentLengths(seen)
      assert.isTrue(same(result.fileEncSha256, expected.result.fileEncSha256))
      assert.isTrue(same(result.fileSha256, sha256(plaintext)))
      assert.strictEqual(result.fileLength, plaintext.length)
      assert.strictEqual(result.mediaKeyTimestamp, 1_700_000_000)
      assert.isTrue(same(Redacted.value(result.mediaKey), key))
      assert.isUndefined(result.streamingSidecar)

      // A message built from the result downloads back and decrypts to the plaintext.
      const message = yield* MediaMessage.image(result, { mimetype: "image/jpeg" })
      const media = message.imageMessage!
      const blob = yield* fetchBlob(client, cdn.hosts[0]!, media.directPath!)
      const decrypted = yield* MediaDecryptor.decryptBytes(blob, {
        mediaType: "image",
        mediaKey: media.mediaKey as Uint8Array,
        fileSha256: media.fileSha256 as Uint8Array,
        fileEncSha256: media.fileEncSha256 as Uint8Array
      })
      assert.isTrue(same(decrypted, plaintext))
    }))

  it.scoped("takes the media key from MediaCrypto when none is given, and the timestamp from the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_234_567_000)
      const { uploads } = yield* setup()
      const result = yield* uploads.upload(MediaUpload.bytes(new Uint8Array(10)), { mediaType: "document" })
      const expected = yield* Effect.flatMap(
        Effect.provide(MediaCrypto.MediaCrypto, MediaCrypto.layerTest("upload")),
        (crypto) => crypto.generateMediaKey
      )
      assert.isTrue(same(Redacted.value(result.mediaKey), Redacted.value(expected)))
      assert.strictEqual(result.mediaKeyTimestamp, 1_234_567)
    }))

  it.scoped("a video file: sidecar as Sidecar.compute, no temp file, progress up to the total", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "wa-media-upload-test-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const path = join(dir, "clip.mp4")
      const plaintext = pattern(1_000_003, 3)
      writeFileSync(path, plaintext)
      const { seen, uploads } = yield* setup()
      const progress: Array<MediaUpload.Progress> = []
      const spillsBefore = readdirSync(tmpdir()).filter((name) => name.startsWith("wa-media-upload-")).length
      const result = yield* uploads.upload(MediaUpload.file(path), {
        mediaType: "video",
        mediaKey: key,
        onProgress: (p) => Effect.sync(() => progress.push(p))
      })
      assert.strictEqual(
        readdirSync(tmpdir()).filter((name) => name.startsWith("wa-media-upload-")).length,
        spillsBefore
      )
      const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey: key })
      const keys = yield* MediaKeys.derive(Redacted.make(key), "video")
      assert.isDefined(result.streamingSidecar)
      assert.isTrue(same(result.streamingSidecar!, Sidecar.compute(keys.macKey, keys.iv, blob)))
      assert.isTrue(same(concat(seen[0]!.body), blob))
      assertContentLengths(seen)
      assert.deepStrictEqual(progress.at(-1), { bytes: blob.length, total: blob.length, host: "mmg.whatsapp.net" })
      const message = yield* MediaMessage.video(result, { mimetype: "video/mp4" })
      assert.isTrue(same(message.videoMessage!.streamingSidecar as Uint8Array, result.streamingSidecar!))
    }))

  it.scoped("sidecar: false leaves it out for audio", () =>
    Effect.gen(function*() {
      const { uploads } = yield* setup()
      const result = yield* uploads.upload(MediaUpload.bytes(pattern(1000)), {
        mediaType: "audio",
        mediaKey: key,
        sidecar: false
      })
      assert.isUndefined(result.streamingSidecar)
    }))

  it.scoped("a re-readable stream is read once per pass", () =>
    Effect.gen(function*() {
      const { seen, uploads } = yield* setup()
      const plaintext = pattern(200_000, 9)
      let reads = 0
      const source = MediaUpload.stream(() => {
        reads++
        // Small, odd pieces: the engine re-blocks them.
        return Stream.fromIterable(Array.from({ length: 200 }, (_, i) => plaintext.subarray(i * 1000, i * 1000 + 1000)))
      })
      yield* uploads.upload(source, { mediaType: "document", mediaKey: key })
      assert.strictEqual(reads, 2)
      const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "document", mediaKey: key })
      assert.isTrue(same(concat(seen[0]!.body), blob))
    }))

  it.scoped("a one-shot stream spills to a temp file that exists during the upload and is removed after", () =>
    Effect.gen(function*() {
      const spills = () => readdirSync(tmpdir()).filter((name) => name.startsWith("wa-media-upload-"))
      const before = new Set(spills())
      let during: Array<string> = []
      const { seen, uploads } = yield* setup(() => {
        during = spills().filter((name) => !before.has(name))
        return undefined
      })
      const plaintext = pattern(150_000, 5)
      let reads = 0
      const stream = Stream.suspend(() => {
        reads++
        return Stream.make(plaintext.subarray(0, 70_000), plaintext.subarray(70_000))
      })
      yield* uploads.upload(MediaUpload.oneShot(stream), { mediaType: "image", mediaKey: key })
      assert.strictEqual(reads, 1)
      assert.strictEqual(during.length, 1)
      assert.deepStrictEqual(spills().filter((name) => !before.has(name)), [])
      const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey: key })
      assert.isTrue(same(concat(seen[0]!.body), blob))
    }))

  it.scoped("a one-shot stream that fails removes its temp file and fails with its own error", () =>
    Effect.gen(function*() {
      const spills = () => readdirSync(tmpdir()).filter((name) => name.startsWith("wa-media-upload-"))
      const before = spills().length
      const { seen, uploads } = yield* setup()
      const error = yield* Effect.flip(
        uploads.upload(
          MediaUpload.oneShot(Stream.concat(Stream.make(new Uint8Array(10)), Stream.fail("boom" as const))),
          { mediaType: "image", mediaKey: key }
        )
      )
      assert.strictEqual(error, "boom")
      assert.strictEqual(spills().length, before)
      assert.strictEqual(seen.length, 0)
    }))

  it.scoped("product-catalog-image: the plaintext to /product/image with the token from fileSha256", () =>
    Effect.gen(function*() {
      const { cdn, client, seen, uploads } = yield* setup()
      const plaintext = pattern(50_000, 11)
      const result = yield* uploads.upload(MediaUpload.bytes(plaintext), { mediaType: "product-catalog-image" })
      const token = b64url(sha256(plaintext))
      assert.strictEqual(seen[0]!.path, `/product/image/${token}`)
      assert.isTrue(same(concat(seen[0]!.body), plaintext))
      assertContentLengths(seen)
      assert.isTrue(same(result.fileSha256, sha256(plaintext)))
      assert.isTrue(same(result.fileEncSha256, sha256(plaintext)))
      assert.isDefined(result.handle)
      assert.isTrue(same(yield* fetchBlob(client, cdn.hosts[0]!, result.directPath), plaintext))
    }))

  it.scoped("a source that changes between the passes fails with SourceChanged and stores nothing", () =>
    Effect.gen(function*() {
      const { cdn, uploads } = yield* setup()
      let reads = 0
      const source = MediaUpload.stream(() => Stream.make(pattern(100_000, reads++ === 0 ? 1 : 2)))
      const error = yield* Effect.flip(uploads.upload(source, { mediaType: "image", mediaKey: key }))
      assert.strictEqual(error._tag, "MediaUploadError")
      assert.strictEqual(error._tag === "MediaUploadError" && error.reason, "SourceChanged")
      const requests = yield* cdn.requests
      assert.deepStrictEqual(requests.map((r) => r.status), [undefined])
    }))

  it.scoped("a missing file is a MediaFileError; a bad media key an InvalidMediaKey; nothing is sent", () =>
    Effect.gen(function*() {
      const { seen, uploads } = yield* setup()
      const missing = yield* Effect.flip(
        uploads.upload(MediaUpload.file("/nonexistent/wa-media/file"), { mediaType: "image", mediaKey: key })
      )
      assert.strictEqual(missing._tag, "MediaFileError")
      const badKey = yield* Effect.flip(
        uploads.upload(MediaUpload.bytes(new Uint8Array(5)), { mediaType: "image", mediaKey: new Uint8Array(31) })
      )
      assert.strictEqual(badKey._tag, "InvalidMediaKey")
      assert.strictEqual(seen.length, 0)
    }))

  describe("failover and refresh", () => {
    it.scopedLive("the media connection is fetched while the first pass runs, once", () =>
      Effect.gen(function*() {
        const fetched = yield* Deferred.make<void>()
        let fetches = 0
        const { uploadRequests, uploads } = yield* setup(
          undefined,
          undefined,
          {},
          Effect.zipRight(Effect.sync(() => fetches++), Deferred.succeed(fetched, undefined))
        )
        const plaintext = pattern(100_000)
        let reads = 0
        // The first pass cannot end before the connection was asked for: one asked only after the
        // pass would never come, and the upload would time out.
        const source = MediaUpload.stream(() =>
          reads++ === 0 ? Stream.fromEffect(Effect.as(Deferred.await(fetched), plaintext)) : Stream.make(plaintext)
        )
        const result = yield* uploads.upload(source, { mediaType: "image", mediaKey: key }).pipe(
          Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("the first pass waited for ever") })
        )
        assert.strictEqual(result.fileLength, plaintext.length)
        assert.strictEqual(fetches, 1)
        assert.strictEqual(uploadRequests().length, 1)
      }))

    it.scoped("500 at the primary: the next host takes it, with a fresh body", () =>
      Effect.gen(function*() {
        const { cdn, seen, uploads } = yield* setup()
        yield* cdn.injectFault({ _tag: "Status", status: 500 })
        const plaintext = pattern(100_000)
        const result = yield* uploads.upload(MediaUpload.bytes(plaintext), { mediaType: "image", mediaKey: key })
        const requests = yield* cdn.requests
        assert.deepStrictEqual(requests.map((r) => [r.host, r.status]), [
          ["mmg.whatsapp.net", 500],
          ["media-fallback.whatsapp.net", 200]
        ])
        const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey: key })
        assert.isTrue(same(concat(seen[1]!.body), blob))
        assertContentLengths(seen.slice(1))
        assert.include(result.url, "media-fallback.whatsapp.net")
      }))

    it.scoped("401: one refresh, then the first host again with the new credential", () =>
      Effect.gen(function*() {
        const { cdn, seen, uploads } = yield* setup()
        // Warm the cache, then revoke what it holds.
        yield* uploads.upload(MediaUpload.bytes(pattern(100, 1)), { mediaType: "image", mediaKey: key })
        yield* cdn.revokeAuth
        yield* cdn.clearRequests
        seen.length = 0
        yield* uploads.upload(MediaUpload.bytes(pattern(100, 2)), { mediaType: "image", mediaKey: key })
        const requests = yield* cdn.requests
        assert.deepStrictEqual(requests.map((r) => [r.kind, r.host, r.status]), [
          ["upload", "mmg.whatsapp.net", 401],
          ["upload", "mmg.whatsapp.net", 200]
        ])
        assert.notStrictEqual(seen[0]!.query.get("auth"), seen[1]!.query.get("auth"))
        // The 401 came before the body was read; its request still declared the whole length.
        assert.strictEqual(seen[0]!.headers["content-length"], seen[1]!.headers["content-length"])
        assertContentLengths(seen.slice(1))
      }))

    it.scoped("403 then 401 after the refresh: Unauthorized, no other host tried", () =>
      Effect.gen(function*() {
        const { cdn, uploads } = yield* setup()
        yield* cdn.injectFaults([{ _tag: "Status", status: 403 }, { _tag: "Status", status: 401 }])
        const error = yield* Effect.flip(
          uploads.upload(MediaUpload.bytes(pattern(100)), { mediaType: "image", mediaKey: key })
        )
        assert.strictEqual(error._tag, "MediaUploadError")
        if (error._tag !== "MediaUploadError") return
        assert.strictEqual(error.reason, "Unauthorized")
        assert.deepStrictEqual(error.attempts.map((a) => [a.host, a.status]), [
          ["mmg.whatsapp.net", 403],
          ["mmg.whatsapp.net", 401]
        ])
        assert.deepStrictEqual((yield* cdn.requests).map((r) => r.host), ["mmg.whatsapp.net", "mmg.whatsapp.net"])
      }))

    it.scoped("every host failing: AllHostsFailed lists each attempt, never the auth token", () =>
      Effect.gen(function*() {
        const { cdn, seen, uploads } = yield* setup()
        yield* cdn.injectFault({ _tag: "Status", status: 503 })
        yield* cdn.injectFault({ _tag: "Drop", afterBytes: 100 }, { host: "media-fallback.whatsapp.net" })
        const error = yield* Effect.flip(
          uploads.upload(MediaUpload.bytes(pattern(100_000)), { mediaType: "image", mediaKey: key })
        )
        assert.strictEqual(error._tag, "MediaUploadError")
        if (error._tag !== "MediaUploadError") return
        assert.strictEqual(error.reason, "AllHostsFailed")
        assert.deepStrictEqual(error.attempts, [
          { host: "mmg.whatsapp.net", status: 503, reason: "server error" },
          {
            host: "media-fallback.whatsapp.net",
            reason: "transport error: UND_ERR_SOCKET (connection closed by the server)"
          }
        ])
        const auth = seen[0]!.query.get("auth")!
        assert.isAbove(auth.length, 8)
        assert.notInclude(error.message, auth)
        assert.notInclude(JSON.stringify(error), auth)
        assert.include(error.message, "mmg.whatsapp.net 503")
      }))

    it.scoped("a 2xx that is not JSON, or without url or direct_path, moves to the next host", () =>
      Effect.gen(function*() {
        const replies = [
          JSON.stringify({ url: "x" }),
          JSON.stringify({ url: "x", direct_path: "/p", handle: 5 }),
          "<html>gateway</html>",
          ""
        ]
        for (const reply of replies) {
          const { uploads } = yield* setup((request, url) =>
            url.host === "mmg.whatsapp.net"
              ? Effect.succeed(HttpClientResponse.fromWeb(request, new Response(reply)))
              : undefined
          )
          const result = yield* uploads.upload(MediaUpload.bytes(pattern(1000)), { mediaType: "image", mediaKey: key })
          assert.include(result.url, "media-fallback.whatsapp.net", reply)
        }
      }))

    it.scoped("a stalled host times out after stallTimeout and the next host takes the upload", () =>
      Effect.gen(function*() {
        const { cdn, uploads } = yield* setup()
        yield* cdn.injectFault({ _tag: "Stall" })
        const fiber = yield* Effect.fork(
          uploads.upload(MediaUpload.bytes(pattern(1000)), {
            mediaType: "image",
            mediaKey: key,
            stallTimeout: "10 seconds"
          })
        )
        while ((yield* TestClock.sleeps()).length === 0) yield* Effect.yieldNow()
        yield* TestClock.adjust("10 seconds")
        const result = yield* Fiber.join(fiber)
        assert.include(result.url, "media-fallback.whatsapp.net")
        assert.deepStrictEqual((yield* cdn.requests).map((r) => r.status), [undefined, 200])
      }))

    it.scoped("the deadline fails with DeadlineExceeded and the attempts so far", () =>
      Effect.gen(function*() {
        const { cdn, uploads } = yield* setup()
        yield* cdn.injectFault({ _tag: "Status", status: 500 })
        yield* cdn.injectFault({ _tag: "Stall" }, { host: "media-fallback.whatsapp.net" })
        const fiber = yield* Effect.fork(
          uploads.upload(MediaUpload.bytes(pattern(1000)), { mediaType: "image", mediaKey: key, deadline: "5 seconds" })
        )
        while ((yield* cdn.requests).length < 2) yield* Effect.yieldNow()
        yield* TestClock.adjust("5 seconds")
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag, "MediaUploadError")
        if (error._tag !== "MediaUploadError") return
        assert.strictEqual(error.reason, "DeadlineExceeded")
        assert.deepStrictEqual(error.attempts.map((a) => a.status), [500])
      }))
  })

  describe("turns", () => {
    const settle = Effect.repeatN(Effect.yieldNow(), 200)
    /** Uploads of `n` different blobs, forked, each with `options`. */
    const uploadsOf = (
      uploads: MediaUpload.MediaUpload["Type"],
      n: number,
      options: Partial<MediaUpload.UploadOptions> = {}
    ) =>
      Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        (i) =>
          Effect.fork(uploads.upload(MediaUpload.bytes(pattern(1000, 100 + i)), { mediaType: "image", ...options }))
      )

    it.scoped("runs at most `concurrency` uploads at once; 16 by default, `unbounded` lifts the bound", () =>
      Effect.gen(function*() {
        const one = yield* setup(undefined, undefined, { concurrency: 1 })
        yield* one.cdn.injectFault({ _tag: "Stall" })
        const [first, second] = yield* uploadsOf(one.uploads, 2, { stallTimeout: "10 seconds" })
        yield* settle
        assert.strictEqual(one.uploadRequests().length, 1, "the second waits for a turn")
        // The first gives its host up and finishes at the fallback; the second then starts.
        yield* TestClock.adjust("10 seconds")
        const results = [yield* Fiber.join(first!), yield* Fiber.join(second!)]
        assert.deepStrictEqual(one.uploadRequests().length, 3)
        assert.include(results[0]!.url, "media-fallback.whatsapp.net")
        for (const [options, expected] of [[{}, 16], [{ concurrency: "unbounded" as const }, 20]] as const) {
          const { cdn, uploadRequests, uploads } = yield* setup(undefined, undefined, options)
          yield* cdn.injectFaults(Array.from({ length: 20 }, () => ({ _tag: "Stall" as const })))
          const fibers = yield* uploadsOf(uploads, 20)
          yield* settle
          assert.strictEqual(uploadRequests().length, expected)
          yield* Effect.forEach(fibers, Fiber.interrupt)
        }
      }))

    it.scoped("small uploads have turns of their own; a file's size comes from its stat", () =>
      Effect.gen(function*() {
        const { cdn, uploadRequests, uploads } = yield* setup(undefined, undefined, { concurrency: 1 })
        yield* cdn.injectFault({ _tag: "Stall" })
        const large = MediaUpload.bytes(pattern(Turns.SMALL_TRANSFER, 7))
        const holder = yield* Effect.fork(uploads.upload(large, { mediaType: "video", stallTimeout: "1 hour" }))
        yield* settle
        const waiting = yield* Effect.fork(uploads.upload(large, { mediaType: "video" }))
        yield* settle
        assert.strictEqual(uploadRequests().length, 1, "the second large upload waits for the first")
        const dir = mkdtempSync(join(tmpdir(), "wa-media-turns-"))
        try {
          writeFileSync(join(dir, "sticker.webp"), pattern(1000, 8))
          const sticker = yield* uploads.upload(MediaUpload.file(join(dir, "sticker.webp")), { mediaType: "sticker" })
          assert.strictEqual(sticker.fileLength, 1000)
          assert.strictEqual(uploadRequests().length, 2, "the small upload went while the large one held its turn")
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
        yield* Fiber.interrupt(holder)
        assert.strictEqual((yield* Fiber.join(waiting)).fileLength, Turns.SMALL_TRANSFER)
      }))

    it.scoped("a deadline counts the wait for a turn", () =>
      Effect.gen(function*() {
        const { cdn, uploadRequests, uploads } = yield* setup(undefined, undefined, { concurrency: 1 })
        yield* cdn.injectFault({ _tag: "Stall" })
        const [holder] = yield* uploadsOf(uploads, 1, { stallTimeout: "1 hour" })
        yield* settle
        const [late] = yield* uploadsOf(uploads, 1, { deadline: "5 seconds" })
        yield* settle
        yield* TestClock.adjust("5 seconds")
        const error = yield* Effect.flip(Fiber.join(late!))
        assert.strictEqual(error._tag === "MediaUploadError" && error.reason, "DeadlineExceeded")
        assert.deepStrictEqual(error._tag === "MediaUploadError" && error.attempts, [])
        assert.strictEqual(uploadRequests().length, 1, "the late upload never sent")
        yield* Fiber.interrupt(holder!)
      }))

    it.scoped("a deadline counts the first pass too", () =>
      Effect.gen(function*() {
        const { uploadRequests, uploads } = yield* setup()
        // A source that takes 10 seconds to give its bytes.
        const slow = MediaUpload.stream(() => Stream.fromEffect(Effect.as(Effect.sleep("10 seconds"), pattern(1000))))
        const fiber = yield* Effect.fork(uploads.upload(slow, { mediaType: "image", deadline: "5 seconds" }))
        yield* settle
        yield* TestClock.adjust("5 seconds")
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag === "MediaUploadError" && error.reason, "DeadlineExceeded")
        assert.strictEqual(uploadRequests().length, 0)
      }))
  })

  describe("resumable upload (5 MiB and above)", () => {
    const large = pattern(RESUME + 1000, 13)

    it.scoped("nothing held: the probe (empty body, Content-Length 0) answers 0, then the whole blob", () =>
      Effect.gen(function*() {
        const { seen, uploads } = yield* setup()
        const result = yield* uploads.upload(MediaUpload.bytes(large), { mediaType: "document", mediaKey: key })
        assert.strictEqual(seen.length, 2)
        assert.strictEqual(seen[0]!.query.get("resume"), "1")
        assert.strictEqual(seen[0]!.headers["content-length"], "0")
        assert.isNull(seen[1]!.query.get("file_offset"))
        const { blob } = yield* MediaEncryptor.encryptBytes(large, { mediaType: "document", mediaKey: key })
        assert.isTrue(same(concat(seen[1]!.body), blob))
        assert.isTrue(same(result.fileEncSha256, sha256(blob)))
        assertContentLengths(seen)
      }))

    it.scoped("complete: a blob the CDN already holds is not sent again", () =>
      Effect.gen(function*() {
        const { cdn, seen, uploads } = yield* setup()
        const first = yield* uploads.upload(MediaUpload.bytes(large), { mediaType: "document", mediaKey: key })
        seen.length = 0
        const progress: Array<MediaUpload.Progress> = []
        const again = yield* uploads.upload(MediaUpload.bytes(large), {
          mediaType: "document",
          mediaKey: key,
          onProgress: (p) => Effect.sync(() => progress.push(p))
        })
        assert.strictEqual(seen.length, 1)
        assert.strictEqual(seen[0]!.query.get("resume"), "1")
        assert.strictEqual(again.directPath.split("?")[0], first.directPath.split("?")[0])
        assert.strictEqual(progress.at(-1)?.bytes, progress.at(-1)?.total)
        assert.strictEqual((yield* cdn.requests).length, 3)
      }))

    it.scoped("offset: a body cut after K bytes resumes on the same host with blob[K:] at file_offset=K", () =>
      Effect.gen(function*() {
        const { cdn, seen, uploads } = yield* setup()
        const cut = 1_000_000
        // The probe takes the first Drop without effect (it has no body), the upload the second.
        yield* cdn.injectFault({ _tag: "Drop", afterBytes: cut, times: 2, on: "upload" })
        yield* uploads.upload(MediaUpload.bytes(large), { mediaType: "document", mediaKey: key })
        const { blob } = yield* MediaEncryptor.encryptBytes(large, { mediaType: "document", mediaKey: key })
        const requests = yield* cdn.requests
        assert.deepStrictEqual(requests.map((r) => [r.host, r.status, r.bytes]), [
          ["mmg.whatsapp.net", 200, 0],
          ["mmg.whatsapp.net", undefined, cut],
          ["mmg.whatsapp.net", 200, 0],
          ["mmg.whatsapp.net", 200, blob.length - cut]
        ])
        assert.strictEqual(seen[3]!.query.get("file_offset"), String(cut))
        assert.strictEqual(Number(seen[3]!.headers["content-length"]), blob.length - cut)
        assert.isTrue(same(concat(seen[3]!.body), blob.subarray(cut)))
        assertContentLengths([seen[0]!, seen[2]!, seen[3]!])
      }))

    const probeAnswer = (
      answer: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<
        HttpClientResponse.HttpClientResponse,
        HttpClientError.HttpClientError
      >
    ): Intercept =>
    (request, url) => url.searchParams.get("resume") === "1" ? answer(request) : undefined

    const fullUploadAfter = (intercept: Intercept) =>
      Effect.gen(function*() {
        const { cdn, seen, uploads } = yield* setup(intercept)
        yield* uploads.upload(MediaUpload.bytes(large), { mediaType: "document", mediaKey: key })
        const { blob } = yield* MediaEncryptor.encryptBytes(large, { mediaType: "document", mediaKey: key })
        assert.strictEqual(seen.length, 2)
        assert.isNull(seen[1]!.query.get("file_offset"))
        assert.isTrue(same(concat(seen[1]!.body), blob))
        assert.deepStrictEqual((yield* cdn.requests).map((r) => [r.host, r.status]), [["mmg.whatsapp.net", 200]])
      })

    it.scoped("malformed JSON from the probe: full upload", () =>
      fullUploadAfter(
        probeAnswer((request) => Effect.succeed(HttpClientResponse.fromWeb(request, new Response("{\"resume\": 12"))))
      ))

    it.scoped("a transport error on the probe: full upload to the same host", () =>
      fullUploadAfter(
        probeAnswer((request) =>
          Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", description: "reset" }))
        )
      ))

    it.scoped("a 500 on the probe: full upload to the same host", () =>
      fullUploadAfter(
        probeAnswer((request) =>
          Effect.succeed(HttpClientResponse.fromWeb(request, new Response("{}", { status: 500 })))
        )
      ))

    it.scoped("an offset out of range or not decimal: full upload", () =>
      Effect.gen(function*() {
        for (const resume of [String(RESUME + 5000), "-5", "12abc", 12, "complete"]) {
          yield* fullUploadAfter(
            probeAnswer((request) =>
              Effect.succeed(HttpClientResponse.fromWeb(request, new Response(JSON.stringify({ resume }))))
            )
          )
        }
      }))

    it.scoped("a 401 on the probe refreshes before any body is sent", () =>
      Effect.gen(function*() {
        const { cdn, seen, uploads } = yield* setup()
        yield* cdn.injectFault({ _tag: "Status", status: 401 })
        yield* uploads.upload(MediaUpload.bytes(large), { mediaType: "document", mediaKey: key })
        assert.deepStrictEqual(seen.map((s) => [s.query.get("resume"), concat(s.body).length > 0]), [
          ["1", false],
          ["1", false],
          [null, true]
        ])
        assert.notStrictEqual(seen[0]!.query.get("auth"), seen[1]!.query.get("auth"))
      }))
  })

  it.scoped("the body stream is built afresh for every try", () =>
    Effect.gen(function*() {
      const { cdn, seen, uploads } = yield* setup()
      yield* cdn.injectFault({ _tag: "Drop", afterBytes: 5000 })
      const plaintext = pattern(200_000, 21)
      yield* uploads.upload(MediaUpload.bytes(plaintext), { mediaType: "image", mediaKey: key })
      const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey: key })
      // The first try's body was pulled (at least) up to the cut; the second is whole.
      assert.isTrue(same(concat(seen[0]!.body).subarray(0, 5000), blob.subarray(0, 5000)))
      assert.isTrue(same(concat(seen[1]!.body), blob))
      assert.strictEqual(Chunk.size(Chunk.fromIterable(seen)), 2)
    }))

  describe("the second pass's cipher on a worker", () => {
    /** Every blob on the worker: pass 1 hashes there, pass 2 encrypts there. */
    const OnWorker = MediaCrypto.layerWith({ workers: 1, threshold: 0 })
    // Several read chunks (1 MiB), the last one short and not a multiple of the block.
    const plaintext = pattern(3 * 1024 * 1024 + 5, 31)

    it.scoped("the body is the blob, byte for byte", () =>
      Effect.gen(function*() {
        const { cdn, client, seen, uploads } = yield* setup(undefined, OnWorker)
        const result = yield* uploads.upload(MediaUpload.bytes(plaintext), { mediaType: "video", mediaKey: key })
        const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey: key })
        assert.strictEqual(seen.length, 1)
        assert.isTrue(same(concat(seen[0]!.body), blob))
        assertContentLengths(seen)
        assert.isTrue(same(yield* fetchBlob(client, cdn.hosts[0]!, result.directPath), blob))
      }))

    it.scoped("a body cut part-way is sent again whole, from a fresh cipher", () =>
      Effect.gen(function*() {
        const { cdn, seen, uploads } = yield* setup(undefined, OnWorker)
        yield* cdn.injectFault({ _tag: "Drop", afterBytes: 1_500_000 })
        yield* uploads.upload(MediaUpload.bytes(plaintext), { mediaType: "video", mediaKey: key })
        const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey: key })
        assert.strictEqual(seen.length, 2)
        assert.isTrue(same(concat(seen[1]!.body), blob))
      }))

    for (
      const [changed, second] of [
        ["its last byte", () => {
          const copy = plaintext.slice()
          copy[copy.length - 1]! ^= 1
          return copy
        }],
        ["its length", () => concat([plaintext, new Uint8Array(1)])]
      ] as const
    ) {
      it.scoped(`a source that changes ${changed} between the passes fails with SourceChanged and stores nothing`, () =>
        Effect.gen(function*() {
          const { cdn, uploads } = yield* setup(undefined, OnWorker)
          let reads = 0
          const source = MediaUpload.stream(() => Stream.make(reads++ === 0 ? plaintext : second()))
          const error = yield* Effect.flip(uploads.upload(source, { mediaType: "video", mediaKey: key }))
          assert.strictEqual(error._tag === "MediaUploadError" && error.reason, "SourceChanged")
          assert.deepStrictEqual((yield* cdn.requests).map((r) => r.status), [undefined])
        }))
    }
  })
})
