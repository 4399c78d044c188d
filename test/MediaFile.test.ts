import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MediaCrypto, MediaDecryptor, MediaEncryptor, MediaFile, MediaType } from "effect-wa-media"
import { randomBytes } from "node:crypto"
import { hex, libraryName, toHex, vectors } from "./vectors.js"

const mediaKey = hex(vectors.media_key)

describe("MediaFile", () => {
  it.scoped("encrypts every vector's plaintext to its blob, and decrypts it back", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      for (const vector of vectors.vectors) {
        const mediaType = yield* MediaType.parse(libraryName(vector.type))
        yield* fs.writeFile(`${dir}/plain`, hex(vector.plaintext_hex))
        const result = yield* MediaFile.encryptFile(`${dir}/plain`, `${dir}/blob`, { mediaType, mediaKey })
        assert.strictEqual(toHex(yield* fs.readFile(`${dir}/blob`)), vector.enc_file, vector.type)
        assert.strictEqual(toHex(result.fileEncSha256), vector.file_enc_sha256)
        assert.strictEqual(toHex(result.fileSha256), vector.file_sha256)
        yield* MediaFile.decryptFile(`${dir}/blob`, `${dir}/back`, {
          mediaType,
          mediaKey,
          fileSha256: result.fileSha256,
          fileEncSha256: result.fileEncSha256,
          fileLength: result.fileLength
        })
        assert.strictEqual(toHex(yield* fs.readFile(`${dir}/back`)), vector.plaintext_hex, vector.type)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a file of many chunks encrypts as encryptBytes does (sidecar, unencrypted media), inline and on the pool", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      // Past the pool's 8 MiB threshold, not a whole number of blocks or of file chunks.
      const plaintext = new Uint8Array(randomBytes(9 * 1024 * 1024 + 1234))
      yield* fs.writeFile(`${dir}/plain`, plaintext)
      // A video has a sidecar; a product-catalog-image passes through unencrypted.
      for (const mediaType of ["video", "product-catalog-image"] as const) {
        const options = { mediaType, mediaKey }
        const expected = yield* MediaEncryptor.encryptBytes(plaintext, options).pipe(
          Effect.provide(MediaCrypto.layerInline)
        )
        for (const crypto of [MediaCrypto.layerInline, MediaCrypto.layer]) {
          const result = yield* MediaFile.encryptFile(`${dir}/plain`, `${dir}/blob`, options).pipe(
            Effect.provide(crypto)
          )
          assert.deepStrictEqual(result, expected.result, mediaType)
          assert.isTrue(Buffer.from(yield* fs.readFile(`${dir}/blob`)).equals(expected.blob), mediaType)
        }
      }
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a bad key fails before any file is opened, leaving nothing behind", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* fs.writeFile(`${dir}/plain`, new Uint8Array(100))
      const encrypting = yield* Effect.flip(
        MediaFile.encryptFile(`${dir}/plain`, `${dir}/blob`, { mediaType: "image", mediaKey: new Uint8Array(31) })
      )
      assert.strictEqual(encrypting._tag, "InvalidMediaKey")
      const decrypting = yield* Effect.flip(
        MediaFile.decryptFile(`${dir}/plain`, `${dir}/out`, { mediaType: "image", mediaKey: new Uint8Array(33) })
      )
      assert.strictEqual(decrypting._tag, "InvalidMediaKey")
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["plain"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("an output that is the input, by name, symlink or hard link, is refused before any work", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const input = `${dir}/plain`
      const bytes = new Uint8Array(70_000).fill(5)
      yield* fs.writeFile(input, bytes)
      yield* fs.symlink(input, `${dir}/symlink`)
      yield* fs.link(input, `${dir}/hardlink`)
      const options = { mediaType: "image", mediaKey } as const
      for (const output of [input, `${dir}/./plain`, `${dir}/symlink`, `${dir}/hardlink`]) {
        for (const run of [MediaFile.encryptFile, MediaFile.decryptFile]) {
          const error = yield* Effect.flip(run(input, output, options))
          assert.strictEqual(error._tag, "MediaFileError")
          assert.strictEqual(error._tag === "MediaFileError" && error.reason, "SameFile")
          assert.strictEqual(error.message, `cannot write ${output}: it is the same file as the input ${input}`)
        }
      }
      // Untouched, and no temp file was made.
      assert.deepStrictEqual(yield* fs.readFile(input), bytes)
      assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["hardlink", "plain", "symlink"])
      // A different file of the same content is fine.
      yield* fs.writeFile(`${dir}/other`, bytes)
      yield* MediaFile.encryptFile(input, `${dir}/other`, options)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it("is the one home of the file functions", () => {
    assert.notProperty(MediaEncryptor, "encryptFile")
    assert.notProperty(MediaDecryptor, "decryptFile")
  })
})
