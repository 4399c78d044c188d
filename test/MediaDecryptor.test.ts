import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Deferred, Effect, Either, Exit, FastCheck as fc, Fiber, Redacted, Stream } from "effect"
import { MediaDecryptor, MediaEncryptor, MediaError, MediaFile, MediaKeys, MediaType } from "effect-wa-media"
import { createCipheriv, createHash, createHmac } from "node:crypto"
import * as FileTransform from "../src/internal/fileTransform.js"
import { arbBytes, arbCuts, concat, cut, pseudoRandomBytes } from "./bytes.js"
import { hex, libraryName, toHex, vectors } from "./vectors.js"

const mediaKey = hex(vectors.media_key)

/** Decrypts pieces through the state machine; the plaintext, or the failed check. */
const decryptParts = (parts: ReadonlyArray<Uint8Array>, options: MediaDecryptor.DecryptOptions) =>
  Effect.flatMap(MediaDecryptor.make(options), (decryptor) => {
    const out = parts.map((part) => decryptor.update(part))
    assert.strictEqual(decryptor.bytesIn, parts.reduce((n, part) => n + part.length, 0))
    return Effect.map(decryptor.final(), (rest) => concat([...out, rest]))
  })

const streamOf = (parts: ReadonlyArray<Uint8Array>) => Stream.fromChunks(...parts.map((part) => Chunk.of(part)))

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest())

/** The failed check of a decryption; a defect or a success fails the test. */
const failedCheck = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    if (Exit.isSuccess(exit)) return assert.fail("expected an integrity error")
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "None") return assert.fail(`expected a typed error, got ${Cause.pretty(exit.cause)}`)
    const error = failure.value
    if (!(error instanceof MediaError.MediaIntegrityError)) return assert.fail(`unexpected ${error._tag}`)
    return error.reason
  })

const flipBit = (bytes: Uint8Array, bit: number) => {
  const copy = bytes.slice()
  copy[bit >> 3]! ^= 1 << (bit & 7)
  return copy
}

/** A blob with a valid MAC over an arbitrary (unpadded) ciphertext of whole blocks. */
const blobWithValidMac = (mediaType: MediaType.MediaType, plaintextBlocks: Uint8Array) =>
  Effect.map(MediaKeys.derive(mediaKey, mediaType), (keys) => {
    const cipher = createCipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv).setAutoPadding(false)
    const ciphertext = concat([cipher.update(plaintextBlocks), cipher.final()])
    const mac = createHmac("sha256", Redacted.value(keys.macKey)).update(keys.iv).update(ciphertext).digest()
    return concat([ciphertext, mac.subarray(0, 10)])
  })

describe("MediaDecryptor", () => {
  for (const [i, vector] of vectors.vectors.entries()) {
    it.effect(`decrypts vector E${i + 1} in every pair of pieces, checking every field`, () =>
      Effect.gen(function*() {
        const mediaType = yield* MediaType.parse(libraryName(vector.type))
        const blob = hex(vector.enc_file)
        const options = {
          mediaType,
          mediaKey,
          fileSha256: hex(vector.file_sha256),
          fileEncSha256: hex(vector.file_enc_sha256),
          fileLength: vector.file_length
        }
        for (let at = 0; at <= blob.length; at++) {
          const plaintext = yield* decryptParts([blob.subarray(0, at), blob.subarray(at)], options)
          assert.strictEqual(toHex(plaintext), vector.plaintext_hex)
        }
      }))
  }

  it.effect.prop(
    "any chunking decrypts to the plaintext, through the state machine and the stream",
    [arbBytes(200 * 1024), arbCuts, fc.constantFrom<MediaType.MediaType>("video", "image", "history")],
    ([plaintext, positions, mediaType]) =>
      Effect.gen(function*() {
        const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType, mediaKey })
        const options = {
          mediaType,
          mediaKey,
          fileSha256: result.fileSha256,
          fileEncSha256: result.fileEncSha256,
          fileLength: result.fileLength
        }
        const parts = cut(blob, positions)
        assert.strictEqual(toHex(yield* decryptParts(parts, options)), toHex(plaintext))
        const streamed = yield* Stream.runCollect(streamOf(parts).pipe(MediaDecryptor.decrypt(options)))
        assert.strictEqual(toHex(concat(Chunk.toReadonlyArray(streamed))), toHex(plaintext))
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect("catches every single flipped bit of a small blob as a MAC mismatch", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(20, 40)
      const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey })
      const options = { mediaType: "image" as const, mediaKey, fileSha256: result.fileSha256 }
      for (let bit = 0; bit < blob.length * 8; bit++) {
        assert.strictEqual(yield* failedCheck(MediaDecryptor.decryptBytes(flipBit(blob, bit), options)), "Mac")
      }
    }))

  it.effect.prop(
    "catches a flipped bit anywhere in a large blob, also with every hash given",
    [arbBytes(200 * 1024), fc.nat(), arbCuts],
    ([plaintext, position, positions]) =>
      Effect.gen(function*() {
        const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey })
        const tampered = flipBit(blob, position % (blob.length * 8))
        const options = {
          mediaType: "video" as const,
          mediaKey,
          fileSha256: result.fileSha256,
          fileEncSha256: result.fileEncSha256,
          fileLength: result.fileLength
        }
        assert.strictEqual(yield* failedCheck(decryptParts(cut(tampered, positions), options)), "Mac")
      }),
    { fastCheck: { numRuns: 40 } }
  )

  it.effect("reports every truncation of a small blob as a typed error", () =>
    Effect.gen(function*() {
      const { blob, result } = yield* MediaEncryptor.encryptBytes(pseudoRandomBytes(21, 50), {
        mediaType: "document",
        mediaKey
      })
      const options = { mediaType: "document" as const, mediaKey, fileSha256: result.fileSha256 }
      for (let length = 0; length < blob.length; length++) {
        const reason = yield* failedCheck(MediaDecryptor.decryptBytes(blob.subarray(0, length), options))
        // A prefix that happens to have a valid blob length still fails its MAC.
        const wellFormed = length >= 26 && (length - 10) % 16 === 0
        assert.strictEqual(reason, wellFormed ? "Mac" : "Truncated", `prefix of ${length} bytes`)
      }
    }))

  it.effect.prop(
    "random garbage is a typed error, never a defect",
    [fc.integer(), fc.nat(3000), arbCuts, fc.boolean()],
    ([seed, length, positions, withHash]) =>
      Effect.gen(function*() {
        const garbage = pseudoRandomBytes(seed, length)
        const options = {
          mediaType: "audio" as const,
          mediaKey: pseudoRandomBytes(seed + 1, 32),
          ...(withHash ? { fileSha256: new Uint8Array(32), fileEncSha256: new Uint8Array(32) } : {})
        }
        const reason = yield* failedCheck(decryptParts(cut(garbage, positions), options))
        assert.include(["Truncated", "Mac"], reason)
        const streamed = yield* failedCheck(Stream.runDrain(MediaDecryptor.decrypt(streamOf([garbage]), options)))
        assert.strictEqual(streamed, reason)
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect("checks the padding after the MAC", () =>
    Effect.gen(function*() {
      const good = new Uint8Array(32).fill(7)
      good.fill(16, 16)
      assert.strictEqual(
        toHex(
          yield* MediaDecryptor.decryptBytes(yield* blobWithValidMac("image", good), { mediaType: "image", mediaKey })
        ),
        toHex(new Uint8Array(16).fill(7))
      )
      for (const last of [0, 17, 255]) {
        const blocks = new Uint8Array(32).fill(7)
        blocks[31] = last
        const blob = yield* blobWithValidMac("image", blocks)
        assert.strictEqual(
          yield* failedCheck(MediaDecryptor.decryptBytes(blob, { mediaType: "image", mediaKey })),
          "Padding"
        )
      }
      const inconsistent = new Uint8Array(32).fill(3)
      inconsistent[30] = 4
      const blob = yield* blobWithValidMac("image", inconsistent)
      assert.strictEqual(
        yield* failedCheck(MediaDecryptor.decryptBytes(blob, { mediaType: "image", mediaKey })),
        "Padding"
      )
    }))

  it.effect("checks the hashes and the length in order: MAC, padding, file SHA-256, blob SHA-256, length", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(22, 1000)
      const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "image", mediaKey })
      const wrong = new Uint8Array(32)
      const base = { mediaType: "image" as const, mediaKey }
      const check = (blob: Uint8Array, options: Partial<MediaDecryptor.DecryptOptions>) =>
        failedCheck(MediaDecryptor.decryptBytes(blob, { ...base, ...options }))
      const allWrong = { fileSha256: wrong, fileEncSha256: wrong, fileLength: 1 }
      assert.strictEqual(yield* check(flipBit(blob, 3), allWrong), "Mac")
      assert.strictEqual(yield* check(blob, allWrong), "FileSha256")
      assert.strictEqual(yield* check(blob, { ...allWrong, fileSha256: result.fileSha256 }), "FileEncSha256")
      assert.strictEqual(
        yield* check(blob, { ...allWrong, fileSha256: result.fileSha256, fileEncSha256: result.fileEncSha256 }),
        "FileLength"
      )
      const error = yield* Effect.flip(MediaDecryptor.decryptBytes(blob, { ...base, fileSha256: wrong }))
      assert.strictEqual(error._tag, "MediaIntegrityError")
      assert.strictEqual(error.message, "plaintext SHA-256 mismatch")
    }))

  it.effect("checks only the SHA-256 (and length) of unencrypted media", () =>
    Effect.gen(function*() {
      const body = pseudoRandomBytes(23, 5000)
      const fileSha256 = sha256(body)
      for (
        const options of [{ mediaType: "image" as const }, { mediaType: "product-catalog-image" as const, mediaKey }]
      ) {
        const parts = cut(body, [1, 100, 4000])
        assert.strictEqual(toHex(yield* decryptParts(parts, { ...options, fileSha256, fileLength: 5000 })), toHex(body))
        assert.strictEqual(
          yield* failedCheck(decryptParts(parts, { ...options, fileSha256: sha256(body.subarray(1)) })),
          "FileSha256"
        )
        assert.strictEqual(
          yield* failedCheck(decryptParts(parts, { ...options, fileEncSha256: new Uint8Array(32) })),
          "FileEncSha256"
        )
        assert.strictEqual(yield* failedCheck(decryptParts(parts, { ...options, fileLength: 4999 })), "FileLength")
      }
    }))

  it.effect("resumes from bytesIn with the same decryptor", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(24, 150_000)
      const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey })
      const decryptor = yield* MediaDecryptor.make({ mediaType: "video", mediaKey, fileSha256: result.fileSha256 })
      const out = [decryptor.update(blob.subarray(0, 70_001)), decryptor.update(blob.subarray(70_001, 70_011))]
      // The connection dropped here: ask for the rest from bytesIn.
      const resumeAt = decryptor.bytesIn
      assert.strictEqual(resumeAt, 70_011)
      out.push(decryptor.update(blob.subarray(resumeAt)))
      const rest = yield* decryptor.final()
      assert.strictEqual(toHex(concat([...out, rest])), toHex(plaintext))
      assert.strictEqual(decryptor.bytesOut, plaintext.length)
    }))

  it.effect("emits plaintext while streaming and fails at the end of a tampered stream", () =>
    Effect.gen(function*() {
      const plaintext = pseudoRandomBytes(25, 4 * 65536)
      const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "video", mediaKey })
      const tampered = flipBit(blob, blob.length * 8 - 1)
      let emitted = 0
      const error = yield* MediaDecryptor.decrypt(streamOf(cut(tampered, [65536, 131072, 196608])), {
        mediaType: "video",
        mediaKey
      }).pipe(Stream.runForEach((chunk) => Effect.sync(() => (emitted += chunk.length))), Effect.flip)
      assert.strictEqual(error._tag, "MediaIntegrityError")
      if (error._tag === "MediaIntegrityError") assert.strictEqual(error.reason, "Mac")
      assert.isAtLeast(emitted, 2 * 65536)
      assert.isBelow(emitted, plaintext.length)
    }))

  it.effect("a key that is not 32 bytes is InvalidMediaKey", () =>
    Effect.gen(function*() {
      for (const length of [0, 1, 31, 33]) {
        const error = yield* Effect.flip(MediaDecryptor.make({ mediaType: "video", mediaKey: new Uint8Array(length) }))
        assert.strictEqual(error._tag, "InvalidMediaKey")
        assert.strictEqual(error.length, length)
      }
      const streamed = MediaDecryptor.decrypt(streamOf([new Uint8Array(26)]), {
        mediaType: "video",
        mediaKey: new Uint8Array(3)
      })
      assert.strictEqual((yield* Effect.flip(Stream.runDrain(streamed)))._tag, "InvalidMediaKey")
    }))

  it.effect("cannot be used after final", () =>
    Effect.gen(function*() {
      const decryptor = yield* MediaDecryptor.make({ mediaType: "image", mediaKey })
      assert.isTrue(Either.isLeft(decryptor.final()))
      assert.throws(() => decryptor.update(new Uint8Array(1)))
    }))

  describe("files", () => {
    const layer = NodeFileSystem.layer

    it.scoped("encrypts and decrypts a file, leaving only the outputs", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        const plaintext = pseudoRandomBytes(26, 5 * 65536 + 77)
        yield* fs.writeFile(`${dir}/in.bin`, plaintext)
        const result = yield* MediaFile.encryptFile(`${dir}/in.bin`, `${dir}/in.enc`, {
          mediaType: "audio",
          mediaKey
        })
        yield* MediaFile.decryptFile(`${dir}/in.enc`, `${dir}/out.bin`, {
          mediaType: "audio",
          mediaKey,
          fileSha256: result.fileSha256,
          fileEncSha256: result.fileEncSha256,
          fileLength: result.fileLength
        })
        assert.strictEqual(toHex(yield* fs.readFile(`${dir}/out.bin`)), toHex(plaintext))
        assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["in.bin", "in.enc", "out.bin"])
      }).pipe(Effect.provide(layer)))

    it.scoped("decrypts a file of several read chunks whose last read is shorter than the held-back bytes", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        // The blob is 3 read chunks and 10 bytes: the last read is part of the MAC, while the
        // decryptor still holds the previous chunk, which sits in one of the read buffers reused.
        const plaintext = pseudoRandomBytes(28, 3 * FileTransform.TRANSFORM_CHUNK_SIZE - 12)
        const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "document", mediaKey })
        assert.strictEqual(blob.length, 3 * FileTransform.TRANSFORM_CHUNK_SIZE + 10)
        const { fileEncSha256, fileLength, fileSha256 } = result
        const options = { mediaType: "document" as const, mediaKey, fileSha256, fileEncSha256, fileLength }
        yield* fs.writeFile(`${dir}/in.enc`, blob)
        yield* MediaFile.decryptFile(`${dir}/in.enc`, `${dir}/out.bin`, options)
        assert.strictEqual(toHex(yield* fs.readFile(`${dir}/out.bin`)), toHex(plaintext))
        // A flipped bit in the second chunk is caught too.
        yield* fs.writeFile(`${dir}/in.enc`, flipBit(blob, (FileTransform.TRANSFORM_CHUNK_SIZE + 1000) * 8))
        const error = yield* Effect.flip(MediaFile.decryptFile(`${dir}/in.enc`, `${dir}/bad.bin`, options))
        assert.strictEqual(error._tag, "MediaIntegrityError")
        if (error._tag === "MediaIntegrityError") assert.strictEqual(error.reason, "Mac")
        assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["in.enc", "out.bin"])
        // And encryptFile gives the same blob and result as encryptBytes.
        yield* fs.writeFile(`${dir}/plain.bin`, plaintext)
        const fromFile = yield* MediaFile.encryptFile(`${dir}/plain.bin`, `${dir}/blob.enc`, {
          mediaType: "document",
          mediaKey
        })
        assert.strictEqual(toHex(yield* fs.readFile(`${dir}/blob.enc`)), toHex(blob))
        assert.strictEqual(toHex(fromFile.fileEncSha256), toHex(result.fileEncSha256))
        assert.strictEqual(toHex(fromFile.fileSha256), toHex(result.fileSha256))
        assert.strictEqual(fromFile.fileLength, plaintext.length)
      }).pipe(Effect.provide(layer)))

    it.scoped("a tampered file is a MediaIntegrityError and leaves no output and no temp file", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        const { blob, result } = yield* MediaEncryptor.encryptBytes(pseudoRandomBytes(27, 3 * 65536), {
          mediaType: "image",
          mediaKey
        })
        yield* fs.writeFile(`${dir}/in.enc`, flipBit(blob, 12345))
        const options = { mediaType: "image" as const, mediaKey, fileSha256: result.fileSha256 }
        const error = yield* Effect.flip(MediaFile.decryptFile(`${dir}/in.enc`, `${dir}/out.bin`, options))
        assert.strictEqual(error._tag, "MediaIntegrityError")
        if (error._tag === "MediaIntegrityError") assert.strictEqual(error.reason, "Mac")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["in.enc"])

        // A wrong expected hash: the MAC passes, the file still never appears.
        yield* fs.writeFile(`${dir}/in.enc`, blob)
        const wrongHash = yield* Effect.flip(
          MediaFile.decryptFile(`${dir}/in.enc`, `${dir}/out.bin`, { ...options, fileSha256: new Uint8Array(32) })
        )
        assert.strictEqual(wrongHash._tag, "MediaIntegrityError")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["in.enc"])

        const missing = yield* Effect.flip(MediaFile.decryptFile(`${dir}/nope`, `${dir}/out.bin`, options))
        assert.strictEqual(missing._tag, "MediaFileError")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["in.enc"])

        // An output folder that does not exist: a write error naming the output.
        const unwritable = yield* Effect.flip(MediaFile.decryptFile(`${dir}/in.enc`, `${dir}/no/out.bin`, options))
        assert.strictEqual(unwritable._tag, "MediaFileError")
        if (unwritable._tag === "MediaFileError") {
          assert.strictEqual(unwritable.reason, "Write")
          assert.strictEqual(unwritable.path, `${dir}/no/out.bin`)
        }

        // A file already at the output stays as it was when the new one fails its checks.
        yield* fs.writeFileString(`${dir}/out.bin`, "previous")
        yield* fs.writeFile(`${dir}/in.enc`, flipBit(blob, 7))
        yield* Effect.flip(MediaFile.decryptFile(`${dir}/in.enc`, `${dir}/out.bin`, options))
        assert.strictEqual(yield* fs.readFileString(`${dir}/out.bin`), "previous")
        assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["in.enc", "out.bin"])
      }).pipe(Effect.provide(layer)))

    it.scoped("an interrupted file transform stops, closes and removes its temp file", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        const chunks = 32
        yield* fs.writeFile(`${dir}/in.bin`, new Uint8Array(chunks * FileTransform.TRANSFORM_CHUNK_SIZE))
        const firstChunk = yield* Deferred.make<void>()
        let updates = 0
        const fiber = yield* Effect.fork(FileTransform.transformFile(`${dir}/in.bin`, `${dir}/out.bin`, {
          update: (chunk) => {
            updates++
            Deferred.unsafeDone(firstChunk, Exit.void)
            return chunk
          },
          end: () => Either.right([new Uint8Array(0), undefined] as const)
        }))
        yield* Deferred.await(firstChunk)
        const exit = yield* Fiber.interrupt(fiber)
        assert.isTrue(Exit.isInterrupted(exit))
        assert.isBelow(updates, chunks)
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["in.bin"])
      }).pipe(Effect.provide(layer)))

    it.scoped("a transformer that throws is a defect and leaves no file", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        yield* fs.writeFile(`${dir}/in.bin`, new Uint8Array(3 * FileTransform.TRANSFORM_CHUNK_SIZE))
        const exit = yield* Effect.exit(FileTransform.transformFile(`${dir}/in.bin`, `${dir}/out.bin`, {
          update: () => {
            throw new Error("broken transformer")
          },
          end: () => Either.right([new Uint8Array(0), undefined] as const)
        }))
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["in.bin"])
      }).pipe(Effect.provide(layer)))
  })
})
