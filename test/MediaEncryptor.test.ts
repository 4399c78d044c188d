import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Channel, Chunk, Effect, FastCheck as fc, Redacted, Stream } from "effect"
import { MediaDecryptor, MediaEncryptor, MediaFile, MediaType } from "effect-wa-media"
import { FLUSH_BYTES } from "../src/internal/blocks.js"
import { arbBytes, arbCuts, concat, cut, pseudoRandomBytes, toBase64Url } from "./bytes.js"
import { hex, libraryName, toHex, vectors } from "./vectors.js"

const mediaKey = hex(vectors.media_key)

/** Encrypts pieces through the state machine, as a caller feeding chunks would. */
const encryptParts = (parts: ReadonlyArray<Uint8Array>, options: MediaEncryptor.EncryptOptions) =>
  Effect.map(MediaEncryptor.make(options), (encryptor) => {
    const out = parts.map((part) => {
      const bytes = encryptor.update(part)
      assert.strictEqual(bytes.length % 16, 0)
      return bytes
    })
    const { result, tail } = encryptor.final()
    const blob = concat([...out, tail])
    assert.strictEqual(encryptor.bytesOut, blob.length)
    return { blob, result }
  })

const streamOf = (parts: ReadonlyArray<Uint8Array>) => Stream.fromChunks(...parts.map((part) => Chunk.of(part)))

const sameResult = (a: MediaEncryptor.EncryptResult, b: MediaEncryptor.EncryptResult) => {
  assert.strictEqual(a.mediaType, b.mediaType)
  assert.strictEqual(toHex(a.fileSha256), toHex(b.fileSha256))
  assert.strictEqual(toHex(a.fileEncSha256), toHex(b.fileEncSha256))
  assert.strictEqual(a.fileLength, b.fileLength)
  assert.strictEqual(
    a.streamingSidecar === undefined ? "none" : toHex(a.streamingSidecar),
    b.streamingSidecar === undefined ? "none" : toHex(b.streamingSidecar)
  )
}

describe("MediaEncryptor", () => {
  for (const [i, vector] of vectors.vectors.entries()) {
    it.effect(`encrypts vector E${i + 1} (${vector.type}, ${vector.file_length} bytes) and decrypts it back`, () =>
      Effect.gen(function*() {
        const mediaType = yield* MediaType.parse(libraryName(vector.type))
        const plaintext = hex(vector.plaintext_hex)
        const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType, mediaKey })
        assert.strictEqual(toHex(blob), vector.enc_file)
        assert.strictEqual(toHex(blob.subarray(0, blob.length - 10)), vector.ciphertext)
        assert.strictEqual(toHex(blob.subarray(blob.length - 10)), vector.mac10)
        assert.strictEqual(blob.length, vector.enc_len)
        assert.strictEqual(MediaEncryptor.blobLength(mediaType, plaintext.length), vector.enc_len)
        assert.strictEqual(toHex(result.fileSha256), vector.file_sha256)
        assert.strictEqual(toHex(result.fileEncSha256), vector.file_enc_sha256)
        assert.strictEqual(toBase64Url(result.fileEncSha256), vector.token_b64url)
        assert.strictEqual(result.fileLength, vector.file_length)
        assert.strictEqual(toHex(Redacted.value(result.mediaKey!)), vectors.media_key)

        const decrypted = yield* MediaDecryptor.decryptBytes(blob, {
          mediaType,
          mediaKey,
          fileSha256: result.fileSha256,
          fileEncSha256: result.fileEncSha256,
          fileLength: result.fileLength
        })
        assert.strictEqual(toHex(decrypted), vector.plaintext_hex)
        // Plain Uint8Array, not node's Buffer (whose `slice` is a view).
        assert.strictEqual(Object.getPrototypeOf(blob), Uint8Array.prototype)
        assert.strictEqual(Object.getPrototypeOf(decrypted), Uint8Array.prototype)
      }))
  }

  it.effect.prop(
    "any chunking gives the one-shot blob and result, through the state machine and the stream",
    [arbBytes(200 * 1024), arbCuts, fc.constantFrom<MediaType.MediaType>("video", "audio", "image", "document")],
    ([plaintext, positions, mediaType]) =>
      Effect.gen(function*() {
        const options = { mediaType, mediaKey }
        const oneShot = yield* MediaEncryptor.encryptBytes(plaintext, options)
        assert.strictEqual(oneShot.blob.length, MediaEncryptor.blobLength(mediaType, plaintext.length))
        assert.strictEqual(oneShot.result.streamingSidecar !== undefined, MediaType.hasStreamingSidecar(mediaType))
        const parts = cut(plaintext, positions)

        const chunked = yield* encryptParts(parts, options)
        assert.strictEqual(toHex(chunked.blob), toHex(oneShot.blob))
        sameResult(chunked.result, oneShot.result)

        const { blob, result } = yield* MediaEncryptor.encrypt(streamOf(parts), options)
        const streamed = concat(Chunk.toReadonlyArray(yield* Stream.runCollect(blob)))
        assert.strictEqual(toHex(streamed), toHex(oneShot.blob))
        sameResult(yield* result, oneShot.result)

        const decrypted = yield* MediaDecryptor.decryptBytes(oneShot.blob, {
          mediaType,
          mediaKey,
          fileSha256: oneShot.result.fileSha256,
          fileEncSha256: oneShot.result.fileEncSha256
        })
        assert.strictEqual(toHex(decrypted), toHex(plaintext))
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect("emits blob chunks as large as the plaintext chunks, and gathers small pieces", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(5, 4 * 65536 + 100)
      const big = cut(plaintext, [65536, 2 * 65536, 3 * 65536, 4 * 65536])
      const { blob } = yield* MediaEncryptor.encrypt(streamOf(big), { mediaType: "image", mediaKey })
      const sizes = Chunk.toReadonlyArray(yield* Stream.runCollect(blob)).map((c) => c.length)
      assert.deepStrictEqual(sizes.slice(0, 4), [65536, 65536, 65536, 65536])

      const small = cut(plaintext, Array.from({ length: 1000 }, (_, i) => i * 300))
      const gathered = yield* MediaEncryptor.encrypt(streamOf(small), { mediaType: "image", mediaKey })
      const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(gathered.blob))
      assert.isTrue(chunks.slice(0, -2).every((c) => c.length >= 65536 - 16))
    }))

  it.effect("writes as it goes when one input chunk holds many pieces, instead of gathering all the output", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(6, 64 * 65536)
      const pieces = cut(plaintext, Array.from({ length: 63 }, (_, i) => (i + 1) * 65536))
      // `fromIterable` puts all 64 pieces in one chunk.
      const { blob, result } = yield* MediaEncryptor.encrypt(Stream.fromIterable(pieces), {
        mediaType: "image",
        mediaKey
      })
      const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.chunks(blob)))
      assert.isAtLeast(chunks.length, 8)
      for (const chunk of chunks) {
        assert.isAtMost(Chunk.reduce(chunk, 0, (n, bytes) => n + bytes.length), FLUSH_BYTES + 65536 + 32)
      }
      const whole = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey })
      assert.strictEqual(toHex(concat(chunks.flatMap((chunk) => Chunk.toReadonlyArray(chunk)))), toHex(whole.blob))
      assert.strictEqual(toHex((yield* result).fileEncSha256), toHex(whole.result.fileEncSha256))
    }))

  it.effect("the channel ends every run with that run's result; the stream re-runs from a clean state", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(9, 70_000)
      const expected = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey })
      const channel = Stream.toChannel(streamOf(cut(plaintext, [5, 70, 65536]))).pipe(
        Channel.pipeTo(MediaEncryptor.encryptChannel({ mediaType: "video", mediaKey }))
      )
      for (let run = 0; run < 2; run++) {
        const [chunks, result] = yield* Channel.runCollect(channel)
        assert.strictEqual(toHex(concat(Chunk.toReadonlyArray(Chunk.flatten(chunks)))), toHex(expected.blob))
        sameResult(result, expected.result)
      }
      // Pass 1 for the token, pass 2 for the body: both see the same blob.
      const first = yield* MediaEncryptor.computeResult(streamOf([plaintext]), { mediaType: "video", mediaKey })
      sameResult(first, expected.result)
      const { blob, result } = yield* MediaEncryptor.encrypt(streamOf([plaintext]), { mediaType: "video", mediaKey })
      for (let run = 0; run < 2; run++) {
        assert.strictEqual(toHex(concat(Chunk.toReadonlyArray(yield* Stream.runCollect(blob)))), toHex(expected.blob))
      }
      sameResult(yield* result, expected.result)
    }))

  it.effect("a failing source fails the blob stream, and a retry starts clean", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(10, 1000)
      let runs = 0
      const flaky = Stream.suspend(() =>
        ++runs === 1
          ? Stream.concat(streamOf([plaintext.subarray(0, 500)]), Stream.fail("boom" as const))
          : streamOf([plaintext])
      )
      const { blob, result } = yield* MediaEncryptor.encrypt(flaky, { mediaType: "image", mediaKey })
      const error = yield* Effect.flip(Stream.runCollect(blob))
      assert.strictEqual(error, "boom")
      const retried = concat(Chunk.toReadonlyArray(yield* Stream.runCollect(blob)))
      const expected = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey })
      assert.strictEqual(toHex(retried), toHex(expected.blob))
      sameResult(yield* result, expected.result)
    }))

  it.effect("computes the sidecar for video and audio by default, and as asked otherwise", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(11, 100)
      const run = (mediaType: MediaType.MediaType, sidecar?: boolean) =>
        Effect.map(
          MediaEncryptor.encryptBytes(
            plaintext,
            sidecar === undefined ? { mediaType, mediaKey } : {
              mediaType,
              mediaKey,
              sidecar
            }
          ),
          ({ result }) => result.streamingSidecar?.length
        )
      assert.strictEqual(yield* run("video"), 10)
      assert.strictEqual(yield* run("audio"), 10)
      assert.strictEqual(yield* run("image"), undefined)
      assert.strictEqual(yield* run("video", false), undefined)
      assert.strictEqual(yield* run("document", true), 10)
    }))

  it.effect("never encrypts product-catalog-image: the blob is the plaintext, with no key", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(12, 1000)
      const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, {
        mediaType: "product-catalog-image",
        mediaKey
      })
      assert.strictEqual(toHex(blob), toHex(plaintext))
      assert.strictEqual(result.mediaKey, undefined)
      assert.strictEqual(toHex(result.fileEncSha256), toHex(result.fileSha256))
      assert.strictEqual(result.fileLength, 1000)
      assert.strictEqual(result.streamingSidecar, undefined)
      const withoutKey = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "product-catalog-image" })
      assert.strictEqual(toHex(withoutKey.result.fileSha256), toHex(result.fileSha256))
    }))

  it.effect("a key that is not 32 bytes, or none for an encrypted type, is InvalidMediaKey", () =>
    Effect.gen(function*() {
      for (const length of [0, 1, 16, 31, 33, 64]) {
        const error = yield* Effect.flip(MediaEncryptor.make({ mediaType: "image", mediaKey: new Uint8Array(length) }))
        assert.strictEqual(error._tag, "InvalidMediaKey")
        assert.strictEqual(error.length, length)
      }
      const missing = yield* Effect.flip(MediaEncryptor.make({ mediaType: "video" }))
      assert.strictEqual(missing._tag, "InvalidMediaKey")
      const badKey = { mediaType: "audio" as const, mediaKey: new Uint8Array(5) }
      const streamed = yield* Effect.flip(MediaEncryptor.encrypt(streamOf([new Uint8Array(10)]), badKey))
      assert.strictEqual(streamed._tag, "InvalidMediaKey")
      const computed = yield* Effect.flip(MediaEncryptor.computeResult(streamOf([new Uint8Array(10)]), badKey))
      assert.strictEqual(computed._tag, "InvalidMediaKey")
      const channel = Stream.toChannel(streamOf([new Uint8Array(10)])).pipe(
        Channel.pipeTo(MediaEncryptor.encryptChannel(badKey))
      )
      assert.strictEqual((yield* Effect.flip(Channel.runDrain(channel)))._tag, "InvalidMediaKey")
    }))

  it.effect("keeps the media key redacted in results", () =>
    Effect.gen(function*() {
      const { result } = yield* MediaEncryptor.encryptBytes(new Uint8Array(3), { mediaType: "image", mediaKey })
      assert.isTrue(Redacted.isRedacted(result.mediaKey))
      assert.notInclude(JSON.stringify(result), "000102030405")
      assert.notInclude(String(result.mediaKey), "000102030405")
    }))

  it.effect("cannot be used after final", () =>
    Effect.gen(function*() {
      const encryptor = yield* MediaEncryptor.make({ mediaType: "image", mediaKey })
      encryptor.final()
      assert.throws(() => encryptor.update(new Uint8Array(1)))
      assert.throws(() => encryptor.final())
    }))

  it.scoped("encrypts a file into another, leaving only the output in the folder", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const plaintext = pseudoRandomBytes(13, 3 * 65536 + 1234)
      yield* fs.writeFile(`${dir}/clip.mp4`, plaintext)
      const result = yield* MediaFile.encryptFile(`${dir}/clip.mp4`, `${dir}/clip.enc`, {
        mediaType: "video",
        mediaKey
      })
      const expected = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey })
      assert.strictEqual(toHex(yield* fs.readFile(`${dir}/clip.enc`)), toHex(expected.blob))
      sameResult(result, expected.result)
      assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["clip.enc", "clip.mp4"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a missing input is a MediaFileError and leaves no file behind", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const error = yield* Effect.flip(
        MediaFile.encryptFile(`${dir}/missing`, `${dir}/out.enc`, { mediaType: "image", mediaKey })
      )
      assert.strictEqual(error._tag, "MediaFileError")
      if (error._tag === "MediaFileError") {
        assert.strictEqual(error.reason, "Read")
        assert.strictEqual(error.path, `${dir}/missing`)
      }
      assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      const badKey = yield* Effect.flip(
        MediaFile.encryptFile(`${dir}/missing`, `${dir}/out.enc`, {
          mediaType: "image",
          mediaKey: mediaKey.slice(1)
        })
      )
      assert.strictEqual(badKey._tag, "InvalidMediaKey")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
