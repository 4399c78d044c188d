// The encryption and decryption cases: in memory (stream form and one shot) and file to file, each
// with the library and the node:crypto baseline doing the same work.
//
// Each side loads only what it uses, in its setup: the baseline no Effect at all, the library the
// modules a user of that function would load (Effect alone is ~20 MB of RSS, Schema and Stream ~15 more),
// so the peak RSS column compares the work, not the imports.
import { readFileSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import * as Baseline from "./baseline.mjs"

/**
 * The library modules of the in-memory cases, run with `MediaCrypto.layer` (`run`) as a program
 * would, so that their hashes take the worker pool.
 */
const memoryLibrary = async () => {
  const [Effect, Stream, MediaEncryptor, MediaDecryptor, MediaCrypto] = await Promise.all([
    import("effect/Effect"),
    import("effect/Stream"),
    import("../dist/MediaEncryptor.js"),
    import("../dist/MediaDecryptor.js"),
    import("../dist/MediaCrypto.js")
  ])
  const run = (effect) => Effect.runPromise(Effect.provide(effect, MediaCrypto.layer))
  return { Effect, Stream, MediaEncryptor, MediaDecryptor, run }
}

/**
 * The library modules of the file cases: `MediaFile` (no `FileSystem` layer needed, no `Stream`
 * loaded), run with `MediaCrypto.layer` (its hash worker pool), as a program would; starting the
 * worker is part of the timed run.
 */
const fileLibrary = async () => {
  const [Effect, MediaFile, MediaCrypto] = await Promise.all([
    import("effect/Effect"),
    import("../dist/MediaFile.js"),
    import("../dist/MediaCrypto.js")
  ])
  const run = (effect) => Effect.runPromise(Effect.provide(effect, MediaCrypto.layer))
  return { MediaFile, run }
}

/** No sidecar for documents: the baseline does not compute one either. */
export const MEDIA_TYPE = "document"
export const HKDF_INFO = "WhatsApp Document Keys"

/**
 * Removes a file case's output before its timed run, so that every run writes a new file, as the
 * first one does. Both sides rename a finished temp file onto their output, and renaming onto an
 * existing file costs the file system, not the case: on the bench machine (ext4, mounted with
 * `discard`), a rename onto the previous run's 256 MiB output took about 180 ms against none onto a
 * free name (about 90 ms of `auto_da_alloc` flushing the new file, about 80 ms freeing the old one).
 */
export const freshOutput = (path) => rmSync(path, { force: true })

/** The paths and values every case of a run shares (written by the parent, read by each child). */
export const paths = (dir) => ({
  plain: join(dir, "plain.bin"),
  blob: join(dir, "blob.enc"),
  out: join(dir, "out.bin"),
  meta: join(dir, "meta.json")
})

const readBytes = (path) => {
  const buffer = readFileSync(path)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

const split = (bytes, size) => {
  const chunks = []
  for (let offset = 0; offset < bytes.length; offset += size) chunks.push(bytes.subarray(offset, offset + size))
  return chunks
}

const hex = (bytes) => Buffer.from(bytes).toString("hex")
const fileSize = (path) => statSync(path).size

const encryptOptions = (meta) => ({ mediaType: MEDIA_TYPE, mediaKey: Buffer.from(meta.mediaKey, "hex") })
const decryptOptions = (meta) => ({
  ...encryptOptions(meta),
  fileSha256: Buffer.from(meta.fileSha256, "hex"),
  fileEncSha256: Buffer.from(meta.fileEncSha256, "hex"),
  fileLength: meta.fileLength
})
const baselineKeys = (meta) => Baseline.deriveKeys(Buffer.from(meta.mediaKey, "hex"), HKDF_INFO)

const encryptStreamCase = (chunkSize, label) => ({
  name: `encrypt memory stream ${label}`,
  sides: {
    library: async ({ dir, meta }) => {
      const { Effect, MediaEncryptor, Stream, run } = await memoryLibrary()
      const chunks = split(readBytes(paths(dir).plain), chunkSize)
      return () =>
        run(Effect.gen(function*() {
          const { blob, result } = yield* MediaEncryptor.encrypt(Stream.fromIterable(chunks), encryptOptions(meta))
          yield* Stream.runDrain(blob)
          const { fileEncSha256, fileLength, fileSha256 } = yield* result
          return { bytes: fileLength, check: `${hex(fileSha256)}/${hex(fileEncSha256)}` }
        }))
    },
    baseline: async ({ dir, meta }) => {
      const chunks = split(readBytes(paths(dir).plain), chunkSize)
      return async () => {
        const encrypt = Baseline.makeEncrypt(baselineKeys(meta))
        let bytes = 0
        for (const chunk of chunks) {
          bytes += chunk.length
          encrypt.update(chunk)
        }
        const { fileEncSha256, fileSha256 } = encrypt.final()
        return { bytes, check: `${fileSha256}/${fileEncSha256}` }
      }
    }
  }
})

const decryptStreamCase = (chunkSize, label) => ({
  name: `decrypt memory stream ${label}`,
  sides: {
    library: async ({ dir, meta }) => {
      const { MediaDecryptor, Stream, run } = await memoryLibrary()
      const chunks = split(readBytes(paths(dir).blob), chunkSize)
      return () =>
        run(
          Stream.runFold(
            MediaDecryptor.decrypt(Stream.fromIterable(chunks), decryptOptions(meta)),
            0,
            (n, chunk) => n + chunk.length
          )
        ).then((n) => ({ bytes: meta.fileLength, check: n }))
    },
    baseline: async ({ dir, meta }) => {
      const chunks = split(readBytes(paths(dir).blob), chunkSize)
      return async () => {
        const decrypt = Baseline.makeDecrypt(baselineKeys(meta), meta)
        let n = 0
        for (const chunk of chunks) n += decrypt.update(chunk).length
        n += decrypt.final().rest.length
        return { bytes: meta.fileLength, check: n }
      }
    }
  }
})

export const cases = [
  encryptStreamCase(1024 * 1024, "1MiB"),
  encryptStreamCase(64 * 1024, "64KiB"),
  {
    name: "encrypt memory encryptBytes",
    sides: {
      library: async ({ dir, meta }) => {
        const { MediaEncryptor, run } = await memoryLibrary()
        const plaintext = readBytes(paths(dir).plain)
        return () =>
          run(MediaEncryptor.encryptBytes(plaintext, encryptOptions(meta))).then(({ blob, result }) => ({
            bytes: result.fileLength,
            check: `${hex(result.fileSha256)}/${hex(result.fileEncSha256)}/${blob.length}`
          }))
      },
      baseline: async ({ dir, meta }) => {
        const plaintext = readBytes(paths(dir).plain)
        return async () => {
          const { blob, fileEncSha256, fileSha256 } = Baseline.encryptBytes(baselineKeys(meta), plaintext)
          return { bytes: plaintext.length, check: `${fileSha256}/${fileEncSha256}/${blob.length}` }
        }
      }
    }
  },
  {
    name: "encrypt file to file",
    file: true,
    sides: {
      library: async ({ dir, meta }) => {
        const { MediaFile, run } = await fileLibrary()
        const { out, plain } = paths(dir)
        freshOutput(out)
        return () =>
          run(MediaFile.encryptFile(plain, out, encryptOptions(meta))).then((result) => ({
            bytes: result.fileLength,
            check: `${hex(result.fileSha256)}/${hex(result.fileEncSha256)}/${fileSize(out)}`
          }))
      },
      baseline: async ({ dir, meta }) => {
        const { out, plain } = paths(dir)
        freshOutput(out)
        return async () => {
          const { fileEncSha256, fileSha256 } = await Baseline.encryptFile(baselineKeys(meta), plain, out)
          return { bytes: meta.fileLength, check: `${fileSha256}/${fileEncSha256}/${fileSize(out)}` }
        }
      }
    }
  },
  decryptStreamCase(1024 * 1024, "1MiB"),
  decryptStreamCase(64 * 1024, "64KiB"),
  {
    name: "decrypt memory decryptBytes",
    sides: {
      library: async ({ dir, meta }) => {
        const { MediaDecryptor, run } = await memoryLibrary()
        const blob = readBytes(paths(dir).blob)
        return () =>
          run(MediaDecryptor.decryptBytes(blob, decryptOptions(meta))).then((plaintext) => ({
            bytes: meta.fileLength,
            check: plaintext.length
          }))
      },
      baseline: async ({ dir, meta }) => {
        const blob = readBytes(paths(dir).blob)
        return async () => ({
          bytes: meta.fileLength,
          check: Baseline.decryptBytes(baselineKeys(meta), blob, meta).length
        })
      }
    }
  },
  {
    name: "decrypt file to file",
    file: true,
    sides: {
      library: async ({ dir, meta }) => {
        const { MediaFile, run } = await fileLibrary()
        const { blob, out } = paths(dir)
        freshOutput(out)
        return () =>
          run(MediaFile.decryptFile(blob, out, decryptOptions(meta))).then(() => ({
            bytes: meta.fileLength,
            check: fileSize(out)
          }))
      },
      baseline: async ({ dir, meta }) => {
        const { blob, out } = paths(dir)
        freshOutput(out)
        return async () => {
          await Baseline.decryptFile(baselineKeys(meta), blob, out, meta)
          return { bytes: meta.fileLength, check: fileSize(out) }
        }
      }
    }
  }
]
