import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, Layer, Redacted, Scope, Stream } from "effect"
import { MediaCrypto, MediaDecryptor, MediaDownload, MediaEncryptor, MediaFile, MediaKeys } from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import { createCipheriv } from "node:crypto"
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Hashing from "../src/internal/hashing.js"
import * as HashPool from "../src/internal/hashPool.js"
import { pseudoRandomBytes } from "./bytes.js"
import { toHex } from "./vectors.js"

/** A pool that takes every blob, with tiny slots: many round trips, reused and extra slots. */
const PoolLayer = MediaCrypto.layerWith({ workers: 1, threshold: 0, slots: 2, slotSize: 4096 })

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "wa-media-crypto-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => Buffer.concat(Chunk.toArray(chunks))

const keysOf = (seed: number) =>
  Effect.flatMap(MediaKeys.fromBytes(pseudoRandomBytes(seed, 32)), (key) => MediaKeys.derive(key, "document"))

describe("MediaCrypto worker pool", () => {
  for (const length of [0, 1000, 64 * 1024, 9 * 64 * 1024 + 17, 3 * 1024 * 1024 + 5]) {
    it.scoped(`file to file through the pool equals the one-shot result (${length} bytes)`, () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const mediaKey = pseudoRandomBytes(length, 32)
        const plaintext = pseudoRandomBytes(7, length)
        const expected = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey })
        writeFileSync(join(dir, "plain"), plaintext)
        const result = yield* MediaFile.encryptFile(join(dir, "plain"), join(dir, "blob"), {
          mediaType: "video",
          mediaKey
        })
        assert.strictEqual(toHex(readFileSync(join(dir, "blob"))), toHex(expected.blob))
        assert.strictEqual(toHex(result.fileSha256), toHex(expected.result.fileSha256))
        assert.strictEqual(toHex(result.fileEncSha256), toHex(expected.result.fileEncSha256))
        assert.strictEqual(toHex(result.streamingSidecar!), toHex(expected.result.streamingSidecar!))
        yield* MediaFile.decryptFile(join(dir, "blob"), join(dir, "back"), {
          mediaType: "video",
          mediaKey,
          fileSha256: result.fileSha256,
          fileEncSha256: result.fileEncSha256,
          fileLength: length
        })
        assert.strictEqual(toHex(readFileSync(join(dir, "back"))), toHex(plaintext))
      }).pipe(Effect.provide(PoolLayer)))
  }

  it.scoped("a flipped bit is caught through the pool, and no file is left", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const mediaKey = pseudoRandomBytes(1, 32)
      const plaintext = pseudoRandomBytes(2, 200_000)
      const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey })
      for (const [index, reason] of [[100_000, "Mac"], [blob.length - 1, "Mac"]] as const) {
        const tampered = blob.slice()
        tampered[index]! ^= 1
        writeFileSync(join(dir, "blob"), tampered)
        const exit = yield* Effect.exit(
          MediaFile.decryptFile(join(dir, "blob"), join(dir, "out"), {
            mediaType: "image",
            mediaKey,
            fileSha256: result.fileSha256
          })
        )
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
        assert.strictEqual(error?._tag === "Some" ? (error.value as { reason?: string }).reason : undefined, reason)
        assert.isFalse(existsSync(join(dir, "out")))
      }
    }).pipe(Effect.provide(PoolLayer)))

  it.scoped("a download through the pool is verified like an inline one", () =>
    Effect.gen(function*() {
      const cdn = yield* FakeCdn.FakeCdn
      const download = yield* MediaDownload.MediaDownload
      const mediaKey = pseudoRandomBytes(3, 32)
      const plaintext = pseudoRandomBytes(4, 1_500_000)
      const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "document", mediaKey })
      const stored = yield* cdn.put(blob)
      const media = {
        mediaType: "document" as const,
        directPath: stored.directPath,
        mediaKey: Redacted.make(mediaKey),
        fileSha256: result.fileSha256,
        fileEncSha256: result.fileEncSha256
      }
      assert.strictEqual(toHex(yield* download.bytes(media)), toHex(plaintext))
      const wrong = yield* Effect.flip(download.bytes({ ...media, fileSha256: new Uint8Array(32) }))
      assert.strictEqual(wrong._tag, "MediaIntegrityError")
    }).pipe(
      Effect.provide(
        MediaDownload.layer.pipe(Layer.provideMerge(FakeCdn.layerWithMediaConn()), Layer.provide(PoolLayer))
      )
    ))

  it.scoped("the Stream forms hash through the context's pool and equal the one-shot result", () =>
    Effect.gen(function*() {
      const mediaKey = pseudoRandomBytes(5, 32)
      const plaintext = pseudoRandomBytes(6, 700_001)
      const expected = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey })
      // Odd piece sizes: blocks gathered, passed through, and split across the tiny slots.
      const pieces = (bytes: Uint8Array) =>
        Stream.fromIterable(
          Array.from(
            { length: Math.ceil(bytes.length / 70_001) },
            (_, i) => bytes.subarray(i * 70_001, (i + 1) * 70_001)
          )
        )
      const { blob, result } = yield* MediaEncryptor.encrypt(pieces(plaintext), { mediaType: "video", mediaKey })
      const chunks = yield* Stream.runCollect(blob)
      assert.strictEqual(toHex(concat(chunks)), toHex(expected.blob))
      const { fileEncSha256, fileSha256, streamingSidecar } = yield* result
      assert.strictEqual(toHex(fileSha256), toHex(expected.result.fileSha256))
      assert.strictEqual(toHex(fileEncSha256), toHex(expected.result.fileEncSha256))
      assert.strictEqual(toHex(streamingSidecar!), toHex(expected.result.streamingSidecar!))
      const computed = yield* MediaEncryptor.computeResult(pieces(plaintext), { mediaType: "video", mediaKey })
      assert.strictEqual(toHex(computed.fileEncSha256), toHex(expected.result.fileEncSha256))
      const options = { mediaType: "video" as const, mediaKey, fileSha256, fileEncSha256 }
      const back = yield* Stream.runCollect(MediaDecryptor.decrypt(pieces(expected.blob), options))
      assert.strictEqual(toHex(concat(back)), toHex(plaintext))
      // A flipped bit and a wrong hash still fail at the end, through the worker.
      const tampered = expected.blob.slice()
      tampered[300_000]! ^= 1
      const mac = yield* Effect.flip(Stream.runDrain(MediaDecryptor.decrypt(pieces(tampered), options)))
      assert.strictEqual(mac.reason, "Mac")
      const wrong = yield* Effect.flip(
        Stream.runDrain(MediaDecryptor.decrypt(pieces(expected.blob), { ...options, fileSha256: new Uint8Array(32) }))
      )
      assert.strictEqual(wrong.reason, "FileSha256")
    }).pipe(Effect.provide(PoolLayer)))

  it.scoped("the one-shot forms hash through the context's pool and equal the inline result", () =>
    Effect.gen(function*() {
      const mediaKey = pseudoRandomBytes(10, 32)
      // More than one piece of transformBytes, and not a multiple of the block size.
      const plaintext = pseudoRandomBytes(11, 2 * 1024 * 1024 + 77)
      const inline = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "audio", mediaKey }).pipe(
        Effect.provide(MediaCrypto.layerInline)
      )
      const pooled = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "audio", mediaKey })
      assert.strictEqual(pooled.blob.length, MediaEncryptor.blobLength("audio", plaintext.length))
      assert.strictEqual(toHex(pooled.blob), toHex(inline.blob))
      assert.strictEqual(toHex(pooled.result.fileSha256), toHex(inline.result.fileSha256))
      assert.strictEqual(toHex(pooled.result.fileEncSha256), toHex(inline.result.fileEncSha256))
      assert.strictEqual(toHex(pooled.result.streamingSidecar!), toHex(inline.result.streamingSidecar!))
      const options = { mediaType: "audio" as const, mediaKey, fileSha256: inline.result.fileSha256 }
      const back = yield* MediaDecryptor.decryptBytes(pooled.blob, options)
      assert.strictEqual(back.length, plaintext.length)
      assert.strictEqual(toHex(back), toHex(plaintext))
      const tampered = pooled.blob.slice()
      tampered[1_500_000]! ^= 1
      const error = yield* Effect.flip(MediaDecryptor.decryptBytes(tampered, options))
      assert.strictEqual(error._tag === "MediaIntegrityError" ? error.reason : error._tag, "Mac")
    }).pipe(Effect.provide(PoolLayer)))

  it.scoped("the Stream and one-shot forms open their hash sessions from the MediaCrypto of the context", () =>
    Effect.gen(function*() {
      const crypto = yield* MediaCrypto.make({ workers: 1, threshold: 0 })
      const opened: Array<{ readonly size: number | undefined; readonly direction: string }> = []
      const counting = MediaCrypto.MediaCrypto.of({
        ...crypto,
        openHashes: (keys, size, direction) => {
          opened.push({ size, direction })
          return crypto.openHashes(keys, size, direction)
        }
      })
      const mediaKey = pseudoRandomBytes(8, 32)
      const plaintext = pseudoRandomBytes(9, 100_000)
      const { blob, result } = yield* MediaEncryptor.encrypt(Stream.make(plaintext), { mediaType: "image", mediaKey })
      const encrypted = concat(yield* Stream.runCollect(blob))
      const { fileSha256 } = yield* result
      const back = yield* Stream.runCollect(
        MediaDecryptor.decrypt(Stream.make(encrypted), {
          mediaType: "image",
          mediaKey,
          fileSha256,
          fileLength: 100_000
        })
      ).pipe(Effect.provideService(MediaCrypto.MediaCrypto, counting))
      assert.strictEqual(toHex(concat(back)), toHex(plaintext))
      // The encryption above ran without the counting service in its context: it asked nobody.
      assert.deepStrictEqual(opened, [{ size: MediaEncryptor.blobLength("image", 100_000), direction: "decrypt" }])
      const again = yield* MediaEncryptor.computeResult(Stream.make(plaintext), { mediaType: "image", mediaKey }).pipe(
        Effect.provideService(MediaCrypto.MediaCrypto, counting)
      )
      assert.strictEqual(toHex(again.fileSha256), toHex(fileSha256))
      assert.deepStrictEqual(opened[1], { size: undefined, direction: "encrypt" })
      // The one-shot forms too, with the sizes they know.
      yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey }).pipe(
        Effect.provideService(MediaCrypto.MediaCrypto, counting)
      )
      yield* MediaDecryptor.decryptBytes(encrypted, { mediaType: "image", mediaKey, fileSha256 }).pipe(
        Effect.provideService(MediaCrypto.MediaCrypto, counting)
      )
      assert.deepStrictEqual(opened.slice(2), [
        { size: 100_000, direction: "encrypt" },
        { size: encrypted.length, direction: "decrypt" }
      ])
    }))

  it.scoped("sessions hash on the worker, and inline for small media or without a worker file", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(5)
      const plaintext = pseudoRandomBytes(6, 50_000)
      const expected = Hashing.inline(keys)
      expected.update(plaintext, plaintext)
      const digests = yield* Hashing.toEffect(expected.final(new Uint8Array(0), new Uint8Array(0), undefined))
      const run = (session: MediaCrypto.HashSession) => {
        session.update(plaintext, plaintext)
        return session.final(new Uint8Array(0), new Uint8Array(0), undefined)
      }
      const pool = yield* HashPool.make({ workers: 1, threshold: 1000 })
      const onWorker = run(yield* pool.openHashes(keys, 1000, "encrypt"))
      assert.isTrue(onWorker instanceof Promise)
      // Decrypting, the plaintext's hash stays on the calling thread, the other two go to the worker.
      const decrypting = run(yield* pool.openHashes(keys, undefined, "decrypt"))
      assert.isTrue(decrypting instanceof Promise)
      const small = run(yield* pool.openHashes(keys, 999, "encrypt"))
      assert.isFalse(small instanceof Promise)
      const missing = yield* HashPool.make({
        workers: 1,
        threshold: 0,
        workerUrl: new URL("./nowhere.js", import.meta.url)
      })
      const fallback = run(yield* missing.openHashes(keys, undefined, "decrypt"))
      assert.isFalse(fallback instanceof Promise)
      const all = [
        yield* Hashing.toEffect(onWorker),
        yield* Hashing.toEffect(decrypting),
        small as MediaCrypto.Digests,
        fallback as MediaCrypto.Digests
      ]
      for (const got of all) {
        assert.strictEqual(toHex(got.fileSha256), toHex(digests.fileSha256))
        assert.strictEqual(toHex(got.fileEncSha256), toHex(digests.fileEncSha256))
        assert.strictEqual(toHex(got.mac), toHex(digests.mac))
      }
    }))

  it.scoped("a session offered a file writes the plaintext there on the worker; inline ones leave it", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(21)
      const chunks = [pseudoRandomBytes(22, 100), pseudoRandomBytes(23, 70), pseudoRandomBytes(24, 33)]
      const plaintext = new Uint8Array(Buffer.concat(chunks))
      const expected = Hashing.inline(keys)
      for (const chunk of chunks) expected.update(chunk, chunk)
      const digests = yield* Hashing.toEffect(expected.final(new Uint8Array(0), new Uint8Array(0), undefined))
      const dir = mkdtempSync(join(tmpdir(), "wa-media-pool-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const path = join(dir, "plain")
      // The plaintext goes from `position` on: what is before it stays.
      writeFileSync(path, "head:")
      const fd = openSync(path, "r+")
      yield* Effect.addFinalizer(() => Effect.sync(() => closeSync(fd)))
      const pool = yield* HashPool.make({ workers: 1, threshold: 1000, slotSize: 64 })
      const session = yield* pool.openHashes(keys, undefined, "decrypt", { fd, position: 5 })
      assert.isTrue(session.writesFile)
      for (const chunk of chunks.slice(0, 2)) session.update(chunk, chunk)
      const got = yield* Hashing.toEffect(session.final(chunks[2]!, chunks[2]!, undefined))
      assert.strictEqual(toHex(got.fileSha256), toHex(digests.fileSha256))
      assert.strictEqual(toHex(got.mac), toHex(digests.mac))
      assert.deepStrictEqual(
        new Uint8Array(readFileSync(path)),
        new Uint8Array(Buffer.concat([Buffer.from("head:"), plaintext]))
      )
      const small = yield* pool.openHashes(keys, 999, "decrypt", { fd, position: 0 })
      assert.notStrictEqual(small.writesFile, true)
    }))

  it.scoped("a failed write of a session's file rejects its hashes with the write's error", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(25)
      // Every write to /dev/full fails with ENOSPC.
      const fd = openSync("/dev/full", "w")
      yield* Effect.addFinalizer(() => Effect.sync(() => closeSync(fd)))
      const pool = yield* HashPool.make({ workers: 1, threshold: 0, slotSize: 64 })
      const session = yield* pool.openHashes(keys, undefined, "decrypt", { fd, position: 0 })
      session.update(pseudoRandomBytes(26, 32), pseudoRandomBytes(27, 32))
      const failure = yield* Effect.flip(Effect.tryPromise({
        try: () => Promise.resolve(session.final(new Uint8Array(16), new Uint8Array(16), undefined)),
        catch: (error) => error
      }))
      assert.instanceOf(failure, Hashing.FileWriteFailure)
      assert.strictEqual((failure as Hashing.FileWriteFailure).failure instanceof Error, true)
      assert.strictEqual(((failure as Hashing.FileWriteFailure).failure as { code?: string }).code, "ENOSPC")
    }))

  it.scoped("closing a session that writes a file waits until its worker wrote what it was sent", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(28)
      const dir = mkdtempSync(join(tmpdir(), "wa-media-pool-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const path = join(dir, "plain")
      const fd = openSync(path, "w")
      yield* Effect.addFinalizer(() => Effect.sync(() => closeSync(fd)))
      const pool = yield* HashPool.make({ workers: 1, threshold: 0, slots: 5000, slotSize: 64 })
      // 4,000 slots of 32 plaintext bytes each are sent, and the session closed without `final`.
      const scope = yield* Scope.make()
      const session = yield* Scope.extend(pool.openHashes(keys, undefined, "decrypt", { fd, position: 0 }), scope)
      const plaintext = pseudoRandomBytes(29, 4000 * 32)
      for (let i = 0; i < 4000; i++) {
        session.update(plaintext.subarray(i * 32, (i + 1) * 32), plaintext.subarray(i * 32, (i + 1) * 32))
      }
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(new Uint8Array(readFileSync(path)), plaintext)
    }))

  it.scoped("cipher sessions encrypt on the worker, and inline for small media or without a worker file", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(13)
      // Whole pieces, a chunk that leaves bytes held back, and one that releases them.
      const chunks = [pseudoRandomBytes(14, 70_003), pseudoRandomBytes(15, 65_536), pseudoRandomBytes(16, 5)]
      const reference = createCipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv)
      const expected = Buffer.concat([...chunks.map((chunk) => reference.update(chunk)), reference.final()])
      const run = (session: MediaCrypto.CipherSession) =>
        Effect.gen(function*() {
          const answers = chunks.map((chunk) => {
            const input = new ArrayBuffer(chunk.length + 16)
            new Uint8Array(input).set(chunk)
            return session.update(input, chunk.length)
          })
          const last = session.final()
          const outputs: Array<Uint8Array> = []
          for (const answer of answers) outputs.push(yield* Hashing.toEffect(answer))
          outputs.push(yield* Hashing.toEffect(last))
          assert.strictEqual(toHex(Buffer.concat(outputs)), toHex(expected))
          return { onWorker: last instanceof Promise, ahead: session.ahead }
        })
      const pool = yield* HashPool.make({ workers: 1, threshold: 1000 })
      assert.deepStrictEqual(yield* run(yield* pool.openCipher(keys, 1000)), { onWorker: true, ahead: 3 })
      assert.deepStrictEqual(yield* run(yield* pool.openCipher(keys, 999)), { onWorker: false, ahead: 1 })
      const missing = yield* HashPool.make({
        workers: 1,
        threshold: 0,
        workerUrl: new URL("./nowhere.js", import.meta.url)
      })
      assert.deepStrictEqual(yield* run(yield* missing.openCipher(keys, undefined)), { onWorker: false, ahead: 1 })
      // The service hands out the same sessions.
      const service = yield* MediaCrypto.make({ workers: 1, threshold: 0 })
      assert.deepStrictEqual(yield* run(yield* service.openCipher(keys, undefined)), { onWorker: true, ahead: 3 })
      assert.deepStrictEqual(
        yield* run(yield* MediaCrypto.fromRandomBytes(() => new Uint8Array(0)).openCipher(keys, 1)),
        {
          onWorker: false,
          ahead: 1
        }
      )
    }))

  it.scoped("a cipher session whose worker fails makes its waits defects, not hangs", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(17)
      const pool = yield* HashPool.make({ workers: 1, threshold: 0 })
      // A key of the wrong length: the worker's cipher throws at open, and the worker dies with it.
      const broken = yield* pool.openCipher({ ...keys, cipherKey: Redacted.make(new Uint8Array(5)) }, undefined)
      const chunk = yield* Effect.exit(Effect.suspend(() => Hashing.toEffect(broken.update(new ArrayBuffer(64), 48))))
      assert.isTrue(Exit.isFailure(chunk) && Cause.isDie(chunk.cause))
      const ended = yield* Effect.exit(Effect.suspend(() => Hashing.toEffect(broken.final())))
      assert.isTrue(Exit.isFailure(ended) && Cause.isDie(ended.cause))
      // The next session runs inline.
      const next = yield* pool.openCipher(keys, undefined)
      assert.isFalse(next.final() instanceof Promise)
    }))

  it.scoped("the built package starts its worker from dist (npm test builds first)", () =>
    Effect.gen(function*() {
      const built: typeof HashPool = yield* Effect.promise(() =>
        import(new URL("../dist/internal/hashPool.js", import.meta.url).href)
      )
      const keys = yield* keysOf(11)
      const plaintext = pseudoRandomBytes(12, 70_000)
      const session = yield* (yield* built.make({ workers: 1, threshold: 0 })).openHashes(keys, undefined, "encrypt")
      session.update(plaintext, plaintext)
      const later = session.final(new Uint8Array(0), new Uint8Array(0), undefined)
      // A promise: the digests come from dist/internal/hashWorker.js, not from the calling thread.
      assert.isTrue(later instanceof Promise)
      const expected = Hashing.inline(keys)
      expected.update(plaintext, plaintext)
      const want = yield* Hashing.toEffect(expected.final(new Uint8Array(0), new Uint8Array(0), undefined))
      assert.strictEqual(toHex((yield* Hashing.toEffect(later)).fileEncSha256), toHex(want.fileEncSha256))
      // And the cipher of an upload's second pass, which the worker runs from dist/internal/cipherInto.js.
      const cipher = yield* (yield* built.make({ workers: 1, threshold: 0 })).openCipher(keys, undefined)
      const input = new ArrayBuffer(plaintext.length + 16)
      new Uint8Array(input).set(plaintext)
      const answer = cipher.update(input, plaintext.length)
      assert.isTrue(answer instanceof Promise)
      const blob = Buffer.concat([yield* Hashing.toEffect(answer), yield* Hashing.toEffect(cipher.final())])
      const reference = createCipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv)
      assert.strictEqual(toHex(blob), toHex(Buffer.concat([reference.update(plaintext), reference.final()])))
    }))

  it.scoped("a worker takes a bounded number of transfers; the next ones hash inline until one ends", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(10)
      const pool = yield* HashPool.make({ workers: 1, threshold: 0, sessions: 2 })
      const empty = new Uint8Array(0)
      const first = yield* pool.openHashes(keys, undefined, "encrypt")
      const second = yield* pool.openHashes(keys, undefined, "encrypt")
      const third = yield* pool.openHashes(keys, undefined, "encrypt")
      assert.isTrue(first.final(empty, empty, undefined) instanceof Promise)
      assert.isFalse(third.final(empty, empty, undefined) instanceof Promise)
      // Once the digests of the first two came back, the worker takes a transfer again.
      yield* Hashing.toEffect(second.final(empty, empty, undefined))
      const fourth = yield* pool.openHashes(keys, undefined, "encrypt")
      assert.isTrue(fourth.final(empty, empty, undefined) instanceof Promise)
    }))

  it.scoped("a download to a file goes to the worker from fileThreshold, and counts a quarter of a session", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(31)
      const empty = new Uint8Array(0)
      const dir = mkdtempSync(join(tmpdir(), "wa-media-pool-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const fd = openSync(join(dir, "plain"), "w")
      yield* Effect.addFinalizer(() => Effect.sync(() => closeSync(fd)))
      const file = { fd, position: 0 }
      const onWorker = (session: MediaCrypto.HashSession) => session.final(empty, empty, undefined) instanceof Promise

      const sized = yield* HashPool.make({ workers: 1, threshold: 10_000, fileThreshold: 1000 })
      assert.isTrue((yield* sized.openHashes(keys, 5000, "decrypt", file)).writesFile)
      assert.isFalse(onWorker(yield* sized.openHashes(keys, 5000, "decrypt")), "without a file: inline below threshold")
      assert.notStrictEqual((yield* sized.openHashes(keys, 999, "decrypt", file)).writesFile, true)
      // Never above `threshold`.
      const capped = yield* HashPool.make({ workers: 1, threshold: 1000, fileThreshold: 10_000 })
      assert.isTrue((yield* capped.openHashes(keys, 5000, "decrypt", file)).writesFile)

      // Room for one session of 4 slots: four that write a file (1 slot each), or one that does not.
      const small = yield* HashPool.make({ workers: 1, threshold: 0, sessions: 1, slots: 4 })
      const writing = []
      for (let i = 0; i < 4; i++) writing.push(yield* small.openHashes(keys, undefined, "decrypt", file))
      assert.isTrue(writing.every((session) => session.writesFile))
      assert.notStrictEqual((yield* small.openHashes(keys, undefined, "decrypt", file)).writesFile, true)
      assert.isFalse(onWorker(yield* small.openHashes(keys, undefined, "encrypt")))
      // Once one has its digests, another fits.
      yield* Hashing.toEffect(writing[0]!.final(empty, empty, undefined))
      assert.isTrue((yield* small.openHashes(keys, undefined, "decrypt", file)).writesFile)
    }))

  it.scoped("a worker that fails makes its sessions' waits defects, not hangs; later ones run inline", () =>
    Effect.gen(function*() {
      const keys = yield* keysOf(8)
      const pool = yield* HashPool.make({ workers: 1, threshold: 0, slots: 1, slotSize: 64 })
      // An IV that is not bytes: the worker's HMAC throws at open, and the worker dies with it.
      const broken = yield* pool.openHashes(
        { ...keys, iv: { slice: () => 42 } as unknown as Uint8Array },
        undefined,
        "encrypt"
      )
      broken.update(new Uint8Array(100), new Uint8Array(100))
      const waited = yield* Effect.exit(Effect.suspend(() => Hashing.toEffect(broken.ready() ?? Promise.resolve())))
      assert.isTrue(Exit.isFailure(waited) && Cause.isDie(waited.cause))
      const ended = yield* Effect.exit(
        Effect.suspend(() => Hashing.toEffect(broken.final(new Uint8Array(0), new Uint8Array(0), undefined)))
      )
      assert.isTrue(Exit.isFailure(ended) && Cause.isDie(ended.cause))
      const next = yield* pool.openHashes(keys, undefined, "encrypt")
      assert.isUndefined(next.ready())
      assert.isFalse(next.final(new Uint8Array(0), new Uint8Array(0), undefined) instanceof Promise)
    }))

  it.effect("the synchronous state machines stay inline whatever the layer", () =>
    Effect.gen(function*() {
      const mediaKey = pseudoRandomBytes(9, 32)
      const decryptor = yield* MediaDecryptor.make({ mediaType: "image", mediaKey })
      assert.isTrue(decryptor.final()._tag === "Left")
    }).pipe(Effect.provide(PoolLayer)))
})
