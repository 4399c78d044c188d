/**
 * docs/protocol.md section 3, the receiving side: decrypts a blob while it streams, holding back the MAC
 * and the padding block, and at the end checks, in this order, the blob length (`Truncated`), the
 * MAC (in constant time), the PKCS7 padding, the plaintext SHA-256, the blob SHA-256 and the
 * plaintext length. Unencrypted media (no media key) only gets the hash and length checks.
 *
 * The core is a chunk-based state machine ({@link make}); {@link decrypt} and {@link decryptBytes} are
 * built on it, and so is `MediaFile.decryptFile`.
 *
 * The `Stream`, `Channel` and one-shot forms hash where the `MediaCrypto` of the context says: with
 * `MediaCrypto.layer`, large media hashes on its worker pool beside the cipher; with no `MediaCrypto`,
 * on the calling thread, as the synchronous state machine always does.
 *
 * @since 0.1.0
 */
import * as Channel from "effect/Channel"
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import { dual, flow } from "effect/Function"
import * as Stream from "effect/Stream"
import { transformBytes, transformChannel } from "./internal/blocks.js"
import * as ContextHashes from "./internal/contextHashes.js"
import * as internal from "./internal/decryptor.js"
import * as Encryptor from "./internal/encryptor.js"
import { withOutcome } from "./internal/outcome.js"
import type { InvalidMediaKey, MediaIntegrityError } from "./MediaError.js"
import type * as MediaKeys from "./MediaKeys.js"
import type * as MediaType from "./MediaType.js"

/**
 * Options of a decryption: the media type and key, and the values from the message to check.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecryptOptions {
  readonly mediaType: MediaType.MediaType
  /**
   * The media key (32 bytes). Absent for unencrypted media (channel media, `product-catalog-image`,
   * which is never encrypted and ignores a key): the body is the plaintext and only the hashes and
   * length are checked.
   */
  readonly mediaKey?: MediaKeys.MediaKey | Uint8Array | undefined
  /** The expected SHA-256 of the plaintext, checked when given. */
  readonly fileSha256?: Uint8Array | undefined
  /** The expected SHA-256 of the blob, checked when given. */
  readonly fileEncSha256?: Uint8Array | undefined
  /** The expected plaintext length, checked when given. */
  readonly fileLength?: number | undefined
}

/**
 * A chunk-based decryptor for one blob. Mutable: create one per download (a resumed download keeps
 * feeding the same one from `bytesIn`).
 *
 * @since 0.1.0
 * @category models
 */
export interface MediaDecryptor {
  readonly mediaType: MediaType.MediaType
  /**
   * Feeds the next blob bytes (any size, empty included) and returns the plaintext available now.
   * To avoid copying, the most recent chunk (at least the last 26 bytes: the last cipher block and
   * the MAC) is held back by reference until more input or `final` comes, so a chunk must not be
   * modified after it was fed. The plaintext is unverified until `final` succeeds.
   */
  readonly update: (chunk: Uint8Array) => Uint8Array
  /**
   * Ends the blob: runs every check and returns the remaining plaintext, or the first check that
   * failed (`Truncated`, `Mac`, `Padding`, `FileSha256`, `FileEncSha256`, `FileLength`, in that
   * order).
   */
  readonly final: () => Either.Either<Uint8Array, MediaIntegrityError>
  /** Blob bytes consumed so far: a resumed download asks for `Range: bytes=<bytesIn>-`. */
  readonly bytesIn: number
  /** Plaintext bytes handed out so far. */
  readonly bytesOut: number
}

/**
 * Creates a decryptor for one blob. A media key that is not 32 bytes fails with `InvalidMediaKey`.
 *
 * @example
 * ```ts
 * import { Effect, Either } from "effect"
 * import { MediaDecryptor } from "effect-wa-media"
 *
 * const program = (mediaKey: Uint8Array, fileSha256: Uint8Array, parts: ReadonlyArray<Uint8Array>) =>
 *   Effect.flatMap(MediaDecryptor.make({ mediaType: "image", mediaKey, fileSha256 }), (decryptor) => {
 *     const plaintext = parts.map((part) => decryptor.update(part))
 *     return Either.map(decryptor.final(), (rest) => [...plaintext, rest])
 *   }) // Effect<Array<Uint8Array>, InvalidMediaKey | MediaIntegrityError>
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: DecryptOptions) => Effect.Effect<MediaDecryptor, InvalidMediaKey> = internal.make

/**
 * A channel from blob chunks to plaintext chunks that fails at the end with the
 * `MediaIntegrityError` of the first failed check (and then writes nothing more). Its state is
 * created when it runs, so a retry starts clean.
 *
 * @since 0.1.0
 * @category streaming
 */
export const decryptChannel = <E = never>(
  options: DecryptOptions
): Channel.Channel<
  Chunk.Chunk<Uint8Array>,
  Chunk.Chunk<Uint8Array>,
  E | InvalidMediaKey | MediaIntegrityError,
  E,
  void,
  unknown
> =>
  // The hashes run where the context's `MediaCrypto` says, for a blob of the length the options
  // imply; the session lasts as long as the run.
  Channel.unwrapScoped(Effect.map(
    Effect.flatMap(ContextHashes.fromContext, (open) =>
      internal.openCore(
        options,
        open,
        options.fileLength === undefined ? undefined : Encryptor.blobLength(options.mediaType, options.fileLength)
      )),
    (decryptor) => transformChannel<void, MediaIntegrityError, E>(internal.transformer(decryptor))
  ))

/**
 * Decrypts a blob stream into a plaintext stream, emitted as it goes; the stream fails at its end
 * with a `MediaIntegrityError` naming the failed check. Plaintext is only verified once the stream
 * ended without failure: write it somewhere that can be thrown away (see `MediaFile.decryptFile`).
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { MediaDecryptor } from "effect-wa-media"
 *
 * const program = (blob: Stream.Stream<Uint8Array>, mediaKey: Uint8Array, fileSha256: Uint8Array) =>
 *   blob.pipe(MediaDecryptor.decrypt({ mediaType: "image", mediaKey, fileSha256 }), Stream.runCollect)
 * ```
 *
 * @since 0.1.0
 * @category streaming
 */
export const decrypt: {
  (options: DecryptOptions): <E, R>(
    stream: Stream.Stream<Uint8Array, E, R>
  ) => Stream.Stream<Uint8Array, E | InvalidMediaKey | MediaIntegrityError, R>
  <E, R>(
    stream: Stream.Stream<Uint8Array, E, R>,
    options: DecryptOptions
  ): Stream.Stream<Uint8Array, E | InvalidMediaKey | MediaIntegrityError, R>
} = dual(
  2,
  <E, R>(stream: Stream.Stream<Uint8Array, E, R>, options: DecryptOptions) =>
    Stream.fromChannel(Channel.pipeTo(Stream.toChannel(stream), decryptChannel<E>(options)))
)

/**
 * Decrypts and verifies a blob held in memory in one go, into one buffer of the blob's length (the
 * plaintext is a view of it, at most 26 bytes shorter). Its hashes run where the `MediaCrypto` of the
 * context says (with `MediaCrypto.layer`, on the worker pool from 8 MiB), on the calling thread
 * without one.
 *
 * @since 0.1.0
 * @category decryption
 */
export const decryptBytes: (
  blob: Uint8Array,
  options: DecryptOptions
) => Effect.Effect<Uint8Array, InvalidMediaKey | MediaIntegrityError> = Effect.fn("MediaDecryptor.decryptBytes")(
  function*(blob: Uint8Array, options: DecryptOptions) {
    yield* Effect.annotateCurrentSpan({ "media.type": options.mediaType, "media.blob_length": blob.length })
    const decryptor = yield* internal.openCore(options, yield* ContextHashes.fromContext, blob.length)
    const [plaintext] = yield* transformBytes(internal.transformer(decryptor), blob, blob.length)
    return plaintext
  },
  flow(Effect.scoped, withOutcome)
)
