/**
 * docs/protocol.md section 3, the sending side: `blob = AES-256-CBC(cipherKey, iv, PKCS7(plaintext)) ||
 * HMAC-SHA256(macKey, iv || ciphertext)[0:10]`, with the plaintext and blob hashes and, for video and
 * audio, the streaming sidecar of section 4, all computed in one pass.
 *
 * The core is a chunk-based state machine ({@link make}); {@link encryptChannel}, {@link encrypt},
 * {@link computeResult} and {@link encryptBytes} are built on it, and so is `MediaFile.encryptFile`.
 *
 * The `Stream`, `Channel` and one-shot forms hash where the `MediaCrypto` of the context says: with
 * `MediaCrypto.layer`, large media hashes on its worker pool beside the cipher; with no `MediaCrypto`,
 * on the calling thread, as the synchronous state machine always does.
 *
 * @since 0.1.0
 */
import * as Channel from "effect/Channel"
import type * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { dual, flow } from "effect/Function"
import * as Stream from "effect/Stream"
import { transformBytes, transformChannel } from "./internal/blocks.js"
import * as ContextHashes from "./internal/contextHashes.js"
import * as internal from "./internal/encryptor.js"
import { withOutcome } from "./internal/outcome.js"
import type { InvalidMediaKey } from "./MediaError.js"
import type * as MediaKeys from "./MediaKeys.js"
import type * as MediaType from "./MediaType.js"

/**
 * The length of the truncated HMAC at the end of every encrypted blob.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAC_LENGTH: number = internal.MAC_LENGTH

/**
 * What an encryption yields besides the blob: exactly the fields a media message carries.
 *
 * For a type that is never encrypted (`product-catalog-image`) the blob is the plaintext itself,
 * so `fileEncSha256` equals `fileSha256` and `mediaKey` is `undefined`.
 *
 * @since 0.1.0
 * @category models
 */
export interface EncryptResult {
  readonly mediaType: MediaType.MediaType
  /** The media key; `undefined` for media that is not encrypted. */
  readonly mediaKey: MediaKeys.MediaKey | undefined
  /** SHA-256 of the plaintext. */
  readonly fileSha256: Uint8Array
  /** SHA-256 of the blob (MAC included); the plaintext's SHA-256 when not encrypted. */
  readonly fileEncSha256: Uint8Array
  /** The number of plaintext bytes. */
  readonly fileLength: number
  /** The streaming sidecar (10 bytes per 64 KiB window), when one was computed. */
  readonly streamingSidecar?: Uint8Array
}

/**
 * Options of an encryption.
 *
 * @since 0.1.0
 * @category models
 */
export interface EncryptOptions {
  readonly mediaType: MediaType.MediaType
  /**
   * The media key (32 bytes). Required for every encrypted type (a missing key fails with
   * `InvalidMediaKey`); ignored for `product-catalog-image`, which is never encrypted. One key must
   * never encrypt two different files of one type: the IV is derived from it.
   */
  readonly mediaKey?: MediaKeys.MediaKey | Uint8Array | undefined
  /**
   * Whether to compute the streaming sidecar in the same pass. Defaults to `true` for video and
   * audio (the types that carry one), `false` otherwise. Never computed for unencrypted media.
   */
  readonly sidecar?: boolean | undefined
}

/**
 * A chunk-based encryptor for one file. Mutable: create one per pass.
 *
 * @since 0.1.0
 * @category models
 */
export interface MediaEncryptor {
  readonly mediaType: MediaType.MediaType
  /**
   * Encrypts the next plaintext bytes (any size, empty included) and returns the blob bytes ready
   * now (a multiple of 16 bytes, possibly empty). For unencrypted media it returns `chunk` itself.
   * `chunk` is not retained.
   */
  readonly update: (chunk: Uint8Array) => Uint8Array
  /** Ends the plaintext: returns the last blob bytes (last cipher block and MAC) and the result. */
  readonly final: () => { readonly tail: Uint8Array; readonly result: EncryptResult }
  /** Plaintext bytes consumed so far. */
  readonly bytesIn: number
  /** Blob bytes handed out so far. */
  readonly bytesOut: number
}

/**
 * Creates an encryptor for one file. A media key that is not 32 bytes (or missing, for an
 * encrypted type) fails with `InvalidMediaKey`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaEncryptor } from "effect-wa-media"
 *
 * const program = (mediaKey: Uint8Array, parts: ReadonlyArray<Uint8Array>) =>
 *   Effect.map(MediaEncryptor.make({ mediaType: "video", mediaKey }), (encryptor) => {
 *     const blob = parts.map((part) => encryptor.update(part))
 *     const { tail, result } = encryptor.final()
 *     return { blob: [...blob, tail], result }
 *   })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: EncryptOptions) => Effect.Effect<MediaEncryptor, InvalidMediaKey> = internal.make

/**
 * The channel of one run around a fresh encryptor, its hashes where the context's `MediaCrypto`
 * says (the size of a stream is not known beforehand); the session lasts as long as the run.
 */
const runChannel = <E>(
  prepared: internal.Prepared
): Channel.Channel<Chunk.Chunk<Uint8Array>, Chunk.Chunk<Uint8Array>, E, E, EncryptResult, unknown> =>
  Channel.unwrapScoped(Effect.map(
    Effect.flatMap(ContextHashes.fromContext, (open) => internal.openCore(prepared, open, undefined)),
    (encryptor) => transformChannel<EncryptResult, never, E>(internal.transformer(encryptor))
  ))

/**
 * A channel from plaintext chunks to blob chunks whose terminal value is the {@link EncryptResult}
 * of that run. Its state is created when it runs, so every run (a retry, a second pass) starts
 * clean and ends with its own result. Small input pieces are gathered into 64 KiB blocks; large
 * ones pass through, so blob chunks are as large as the plaintext chunks.
 *
 * @example
 * ```ts
 * import { Channel, Stream } from "effect"
 * import { MediaEncryptor } from "effect-wa-media"
 *
 * const program = (plaintext: Stream.Stream<Uint8Array>, mediaKey: Uint8Array) =>
 *   Stream.toChannel(plaintext).pipe(
 *     Channel.pipeTo(MediaEncryptor.encryptChannel({ mediaType: "image", mediaKey })),
 *     Channel.runCollect
 *   ) // Effect<[Chunk<Chunk<Uint8Array>>, EncryptResult], InvalidMediaKey>
 * ```
 *
 * @since 0.1.0
 * @category streaming
 */
export const encryptChannel = <E = never>(
  options: EncryptOptions
): Channel.Channel<Chunk.Chunk<Uint8Array>, Chunk.Chunk<Uint8Array>, E | InvalidMediaKey, E, EncryptResult, unknown> =>
  Channel.unwrap(Effect.map(internal.prepare(options), (prepared) => runChannel<E>(prepared)))

/**
 * The blob stream and its result, as {@link encrypt} returns them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Encrypted<E, R> {
  /**
   * The blob. Each run encrypts the source afresh (state is created per run), so it can be retried
   * after a failure or run once more for a second pass.
   */
  readonly blob: Stream.Stream<Uint8Array, E, R>
  /**
   * Waits for the result of the first run of `blob` that reached its end (it waits as long as no run
   * did, so await it after, or concurrently with, consuming `blob`).
   */
  readonly result: Effect.Effect<EncryptResult>
}

/**
 * Encrypts a plaintext stream: checks the key at once, then returns the blob stream and an effect
 * that yields the result once a run of the blob stream ended. To get a result for each of several
 * complete runs, use {@link encryptChannel}; for the result alone, {@link computeResult}.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { MediaEncryptor } from "effect-wa-media"
 *
 * const program = (plaintext: Stream.Stream<Uint8Array>, mediaKey: Uint8Array) =>
 *   Effect.gen(function*() {
 *     const { blob, result } = yield* MediaEncryptor.encrypt(plaintext, { mediaType: "video", mediaKey })
 *     const chunks = yield* Stream.runCollect(blob) // or: the body of an HTTP request
 *     const { fileEncSha256, streamingSidecar } = yield* result
 *     return { chunks, fileEncSha256, streamingSidecar }
 *   })
 * ```
 *
 * @since 0.1.0
 * @category streaming
 */
export const encrypt: {
  (options: EncryptOptions): <E, R>(
    stream: Stream.Stream<Uint8Array, E, R>
  ) => Effect.Effect<Encrypted<E, R>, InvalidMediaKey>
  <E, R>(stream: Stream.Stream<Uint8Array, E, R>, options: EncryptOptions): Effect.Effect<
    Encrypted<E, R>,
    InvalidMediaKey
  >
} = dual(2, <E, R>(stream: Stream.Stream<Uint8Array, E, R>, options: EncryptOptions) =>
  Effect.gen(function*() {
    const prepared = yield* internal.prepare(options)
    const deferred = yield* Deferred.make<EncryptResult>()
    const blob = Stream.fromChannel(
      Channel.pipeTo(
        Stream.toChannel(stream),
        Channel.mapEffect(runChannel<E>(prepared), (result) => Deferred.succeed(deferred, result))
      )
    )
    return { blob, result: Deferred.await(deferred) }
  }))

/**
 * Runs the encryption of a stream for its result only, discarding the blob: the first pass of an
 * upload, which needs `fileEncSha256` (the URL token) and the blob length before sending.
 *
 * @since 0.1.0
 * @category streaming
 */
export const computeResult: {
  (options: EncryptOptions): <E, R>(
    stream: Stream.Stream<Uint8Array, E, R>
  ) => Effect.Effect<EncryptResult, E | InvalidMediaKey, R>
  <E, R>(stream: Stream.Stream<Uint8Array, E, R>, options: EncryptOptions): Effect.Effect<
    EncryptResult,
    E | InvalidMediaKey,
    R
  >
} = dual(
  2,
  <E, R>(stream: Stream.Stream<Uint8Array, E, R>, options: EncryptOptions) =>
    Channel.runDrain(Channel.pipeTo(Stream.toChannel(stream), encryptChannel<E>(options)))
)

/**
 * The length of the blob of a plaintext of `fileLength` bytes (PKCS7 always pads, then the MAC):
 * `16 * (floor(n / 16) + 1) + 10`. For unencrypted types the blob is the plaintext.
 *
 * @since 0.1.0
 * @category getters
 */
export const blobLength: (mediaType: MediaType.MediaType, fileLength: number) => number = internal.blobLength

/**
 * Encrypts bytes held in memory in one go, into one buffer of the blob's length. Its hashes run
 * where the `MediaCrypto` of the context says (with `MediaCrypto.layer`, on the worker pool from 8
 * MiB), on the calling thread without one.
 *
 * @since 0.1.0
 * @category encryption
 */
export const encryptBytes: (
  plaintext: Uint8Array,
  options: EncryptOptions
) => Effect.Effect<{ readonly blob: Uint8Array; readonly result: EncryptResult }, InvalidMediaKey> = Effect.fn(
  "MediaEncryptor.encryptBytes"
)(function*(plaintext: Uint8Array, options: EncryptOptions) {
  yield* Effect.annotateCurrentSpan({ "media.type": options.mediaType, "media.file_length": plaintext.length })
  const prepared = yield* internal.prepare(options)
  const encryptor = yield* internal.openCore(prepared, yield* ContextHashes.fromContext, plaintext.length)
  const [blob, result] = yield* transformBytes(
    internal.transformer(encryptor),
    plaintext,
    internal.blobLength(options.mediaType, plaintext.length)
  )
  return { blob, result }
}, flow(Effect.scoped, withOutcome))
