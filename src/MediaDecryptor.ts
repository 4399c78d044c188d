/**
 * PROTOCOL.md section 3, the receiving side: decrypts a blob while it streams, holding back the MAC
 * and the padding block, and at the end checks, in this order, the blob length (`Truncated`), the
 * MAC (in constant time), the PKCS7 padding, the plaintext SHA-256, the blob SHA-256 and the
 * plaintext length. Unencrypted media (no media key) only gets the hash and length checks.
 *
 * The core is a chunk-based state machine ({@link make}); {@link decrypt}, {@link decryptBytes} and
 * {@link decryptFile} are built on it.
 *
 * @since 0.1.0
 */
import * as Channel from "effect/Channel"
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { Decipher, Hash, Hmac } from "node:crypto"
import { createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto"
import { asBytes, transformChannel } from "./internal/blocks.js"
import * as FileTransform from "./internal/fileTransform.js"
import * as Passthrough from "./internal/passthrough.js"
import type { InvalidMediaKey, MediaFileError } from "./MediaError.js"
import { MediaIntegrityError } from "./MediaError.js"
import * as MediaKeys from "./MediaKeys.js"
import * as MediaType from "./MediaType.js"

const MAC_LENGTH = 10
const BLOCK = 16
/** The bytes never fed to the cipher before the end: the last cipher block and the MAC. */
const HOLD_BACK = BLOCK + MAC_LENGTH

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

const usedAfterFinal = () => new Error("MediaDecryptor used after final")

const integrity = (reason: MediaIntegrityError["reason"], detail?: string) =>
  Either.left(new MediaIntegrityError(detail === undefined ? { reason } : { reason, detail }))

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b)

const empty = new Uint8Array(0)

/** The hash and length checks shared by encrypted and unencrypted media. */
const checkHashes = (
  options: DecryptOptions,
  fileSha256: Uint8Array,
  fileEncSha256: Uint8Array,
  fileLength: number
): Either.Either<void, MediaIntegrityError> => {
  if (options.fileSha256 !== undefined && !equalBytes(options.fileSha256, fileSha256)) return integrity("FileSha256")
  if (options.fileEncSha256 !== undefined && !equalBytes(options.fileEncSha256, fileEncSha256)) {
    return integrity("FileEncSha256")
  }
  if (options.fileLength !== undefined && options.fileLength !== fileLength) {
    return integrity("FileLength", `expected ${options.fileLength} bytes, got ${fileLength}`)
  }
  return Either.void
}

const makeEncrypted = (options: DecryptOptions, keys: MediaKeys.MediaKeys): MediaDecryptor => {
  const decipher: Decipher = createDecipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv)
  // Padding is checked here, after the MAC, so that each failure is reported as what it is.
  decipher.setAutoPadding(false)
  const hmac: Hmac = createHmac("sha256", Redacted.value(keys.macKey)).update(keys.iv)
  const plainHash: Hash = createHash("sha256")
  const blobHash: Hash = createHash("sha256")
  // Blob bytes received but not yet fed to the cipher: at least the last HOLD_BACK bytes seen.
  let pending: Uint8Array = empty
  let bytesIn = 0
  let bytesOut = 0
  let done = false

  const feed = (ciphertext: Uint8Array): Uint8Array => {
    if (ciphertext.length === 0) return empty
    hmac.update(ciphertext)
    const plaintext = asBytes(decipher.update(ciphertext))
    plainHash.update(plaintext)
    bytesOut += plaintext.length
    return plaintext
  }

  const update = (chunk: Uint8Array): Uint8Array => {
    if (done) throw usedAfterFinal()
    if (chunk.length === 0) return empty
    bytesIn += chunk.length
    blobHash.update(chunk)
    if (chunk.length >= HOLD_BACK) {
      const ready = pending
      pending = chunk
      return feed(ready)
    }
    // A small chunk: keep the last HOLD_BACK bytes of `pending || chunk` (a copy of at most 26 bytes).
    const total = pending.length + chunk.length
    if (total <= HOLD_BACK) {
      const joined = new Uint8Array(total)
      joined.set(pending, 0)
      joined.set(chunk, pending.length)
      pending = joined
      return empty
    }
    const keepFromPending = HOLD_BACK - chunk.length
    const ready = pending.subarray(0, pending.length - keepFromPending)
    const joined = new Uint8Array(HOLD_BACK)
    joined.set(pending.subarray(pending.length - keepFromPending), 0)
    joined.set(chunk, keepFromPending)
    pending = joined
    return feed(ready)
  }

  const final = (): Either.Either<Uint8Array, MediaIntegrityError> => {
    if (done) throw usedAfterFinal()
    done = true
    if (bytesIn < HOLD_BACK || (bytesIn - MAC_LENGTH) % BLOCK !== 0) {
      return integrity("Truncated", `a blob is 16k + 10 bytes (k >= 1), got ${bytesIn}`)
    }
    const mac = pending.subarray(pending.length - MAC_LENGTH)
    const ciphertext = pending.subarray(0, pending.length - MAC_LENGTH)
    hmac.update(ciphertext)
    if (!timingSafeEqual(hmac.digest().subarray(0, MAC_LENGTH), mac)) return integrity("Mac")
    // Whole blocks only (checked above), so neither call can throw.
    const head = decipher.update(ciphertext)
    const last = decipher.final()
    const plaintext = asBytes(last.length === 0 ? head : Buffer.concat([head, last]))
    const pad = plaintext.length === 0 ? 0 : plaintext[plaintext.length - 1]!
    if (pad < 1 || pad > BLOCK || pad > plaintext.length) return integrity("Padding")
    for (let i = plaintext.length - pad; i < plaintext.length; i++) {
      if (plaintext[i] !== pad) return integrity("Padding")
    }
    const rest = plaintext.subarray(0, plaintext.length - pad)
    plainHash.update(rest)
    bytesOut += rest.length
    const checked = checkHashes(
      options,
      new Uint8Array(plainHash.digest()),
      new Uint8Array(blobHash.digest()),
      bytesOut
    )
    return Either.isLeft(checked) ? Either.left(checked.left) : Either.right(rest)
  }

  return {
    mediaType: options.mediaType,
    update,
    final,
    get bytesIn() {
      return bytesIn
    },
    get bytesOut() {
      return bytesOut
    }
  }
}

const makeUnencrypted = (options: DecryptOptions): MediaDecryptor => {
  const passthrough = Passthrough.make("MediaDecryptor")
  return {
    mediaType: options.mediaType,
    update: passthrough.update,
    final: () => {
      // The body is the plaintext: both hashes, when given, are its SHA-256.
      const digest = passthrough.finish()
      const checked = checkHashes(options, digest, digest, passthrough.length())
      return Either.isLeft(checked) ? Either.left(checked.left) : Either.right(empty)
    },
    get bytesIn() {
      return passthrough.length()
    },
    get bytesOut() {
      return passthrough.length()
    }
  }
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
export const make = (options: DecryptOptions): Effect.Effect<MediaDecryptor, InvalidMediaKey> =>
  Effect.suspend(() =>
    options.mediaKey === undefined || !MediaType.isEncrypted(options.mediaType)
      ? Effect.succeed(makeUnencrypted(options))
      : Effect.map(MediaKeys.derive(options.mediaKey, options.mediaType), (keys) => makeEncrypted(options, keys))
  )

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
  Channel.unwrap(
    Effect.map(make(options), (decryptor) =>
      transformChannel<void, MediaIntegrityError, E>(
        decryptor.update,
        () => Either.map(decryptor.final(), (rest) => [rest, undefined] as const)
      ))
  )

/**
 * Decrypts a blob stream into a plaintext stream, emitted as it goes; the stream fails at its end
 * with a `MediaIntegrityError` naming the failed check. Plaintext is only verified once the stream
 * ended without failure: write it somewhere that can be thrown away (see {@link decryptFile}).
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
 * Decrypts and verifies a blob held in memory in one go.
 *
 * @since 0.1.0
 * @category decryption
 */
export const decryptBytes: (
  blob: Uint8Array,
  options: DecryptOptions
) => Effect.Effect<Uint8Array, InvalidMediaKey | MediaIntegrityError> = Effect.fn("MediaDecryptor.decryptBytes")(
  function*(blob: Uint8Array, options: DecryptOptions) {
    const decryptor = yield* make(options)
    const head = decryptor.update(blob)
    const rest = yield* decryptor.final()
    if (head.length === 0) return rest
    if (rest.length === 0) return head
    const plaintext = new Uint8Array(head.length + rest.length)
    plaintext.set(head, 0)
    plaintext.set(rest, head.length)
    return plaintext
  }
)

/**
 * Decrypts a file into another, streaming in constant memory. The output appears only after every
 * check passed (a temp file beside it is renamed at the end, and removed on failure or
 * interruption), so a tampered blob leaves no file behind. Node only: the files are read and
 * written with `node:fs`, so no `FileSystem` service is needed.
 *
 * @example
 * ```ts
 * import { MediaDecryptor } from "effect-wa-media"
 *
 * const program = (mediaKey: Uint8Array, fileSha256: Uint8Array) =>
 *   MediaDecryptor.decryptFile("clip.enc", "clip.mp4", { mediaType: "video", mediaKey, fileSha256 })
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
  "MediaDecryptor.decryptFile"
)(function*(input: string, output: string, options: DecryptOptions) {
  // A bad key fails here, before any file is touched.
  const decryptor = yield* make(options)
  yield* FileTransform.transformFile(input, output, {
    update: decryptor.update,
    end: () => Either.map(decryptor.final(), (rest) => [rest, undefined] as const)
  })
})
