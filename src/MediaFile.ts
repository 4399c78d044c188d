/**
 * File to file encryption and decryption (docs/protocol.md section 3), in constant memory, written
 * atomically: the output appears, complete, only when every check passed; a temp file beside it is
 * renamed at the end, and removed on failure or interruption.
 *
 * Node only: the files are read and written with `node:fs`, so no `FileSystem` layer is needed.
 * This module loads the encryptor and decryptor state machines and nothing of Effect's `Stream`,
 * which keeps the start-up time and the memory of a program that only converts files small.
 *
 * The hashes run where the `MediaCrypto` of the context says (with `MediaCrypto.layer`, a worker
 * pool for large files, so the cipher and the hashes take two cores); with none, on the calling
 * thread. Either way nothing is written to `output` before every check passed.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { flow } from "effect/Function"
import { stat } from "node:fs/promises"
import * as ContextHashes from "./internal/contextHashes.js"
import * as Decryptor from "./internal/decryptor.js"
import * as Encryptor from "./internal/encryptor.js"
import * as FileTransform from "./internal/fileTransform.js"
import { withOutcome } from "./internal/outcome.js"
import type { DecryptOptions } from "./MediaDecryptor.js"
import type { EncryptOptions, EncryptResult } from "./MediaEncryptor.js"
import type { InvalidMediaKey, MediaFileError, MediaIntegrityError } from "./MediaError.js"

/** The size of `path`, when it can be read (the transform itself reports a file that cannot). */
const sizeOf = (path: string): Effect.Effect<number | undefined> =>
  Effect.promise(() => stat(path).then((info) => info.size, () => undefined))

/**
 * Encrypts a file into another and returns the values a media message carries.
 *
 * @example
 * ```ts
 * import { MediaFile } from "effect-wa-media"
 *
 * const program = (mediaKey: Uint8Array) =>
 *   MediaFile.encryptFile("clip.mp4", "clip.enc", { mediaType: "video", mediaKey })
 * ```
 *
 * @since 0.1.0
 * @category encryption
 */
export const encryptFile: (
  input: string,
  output: string,
  options: EncryptOptions
) => Effect.Effect<EncryptResult, InvalidMediaKey | MediaFileError> = Effect.fn("MediaFile.encryptFile")(
  function*(input: string, output: string, options: EncryptOptions) {
    yield* Effect.annotateCurrentSpan("media.type", options.mediaType)
    // A bad key fails here, before any file is touched.
    const prepared = yield* Encryptor.prepare(options)
    const encryptor = yield* Encryptor.openCore(prepared, yield* ContextHashes.fromContext, yield* sizeOf(input))
    const result = yield* FileTransform.transformFile(input, output, Encryptor.fileTransformer(encryptor))
    yield* Effect.annotateCurrentSpan("media.file_length", result.fileLength)
    return result
  },
  flow(Effect.scoped, withOutcome)
)

/**
 * Decrypts a file into another after checking it: a tampered or truncated blob fails with the
 * `MediaIntegrityError` of the first failed check and leaves no file behind.
 *
 * @example
 * ```ts
 * import { MediaFile } from "effect-wa-media"
 *
 * const program = (mediaKey: Uint8Array, fileSha256: Uint8Array) =>
 *   MediaFile.decryptFile("clip.enc", "clip.mp4", { mediaType: "video", mediaKey, fileSha256 })
 * ```
 *
 * @since 0.1.0
 * @category decryption
 */
export const decryptFile: (
  input: string,
  output: string,
  options: DecryptOptions
) => Effect.Effect<void, InvalidMediaKey | MediaIntegrityError | MediaFileError> = Effect.fn(
  "MediaFile.decryptFile"
)(function*(input: string, output: string, options: DecryptOptions) {
  yield* Effect.annotateCurrentSpan("media.type", options.mediaType)
  // A bad key fails here, before any file is touched.
  const decryptor = yield* Decryptor.openCore(options, yield* ContextHashes.fromContext, yield* sizeOf(input))
  yield* FileTransform.transformFile(input, output, Decryptor.transformer(decryptor))
}, flow(Effect.scoped, withOutcome))
