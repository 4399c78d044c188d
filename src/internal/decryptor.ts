/**
 * The decryptor state machine behind `MediaDecryptor` (docs/protocol.md section 3), apart from the
 * stream forms so that `MediaFile` can use it without loading Effect's `Stream`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Decipher } from "node:crypto"
import { createDecipheriv } from "node:crypto"
import type { HashSession, PlaintextFile } from "../MediaCrypto.js"
import type { DecryptOptions, MediaDecryptor } from "../MediaDecryptor.js"
import type { InvalidMediaKey } from "../MediaError.js"
import { MediaIntegrityError } from "../MediaError.js"
import * as MediaKeys from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"
import { asBytes, equalBytes } from "./bytes.js"
import type { Transformer } from "./fileTransform.js"
import * as Hashing from "./hashing.js"
import { MAC_LENGTH } from "./mediaHashes.js"
import * as Passthrough from "./passthrough.js"

const BLOCK = 16
/** The bytes never fed to the cipher before the end: the last cipher block and the MAC. */
const HOLD_BACK = BLOCK + MAC_LENGTH

const usedAfterFinal = () => new Error("MediaDecryptor used after final")

const integrity = (reason: MediaIntegrityError["reason"], detail?: string) =>
  Either.left(new MediaIntegrityError(detail === undefined ? { reason } : { reason, detail }))

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

/**
 * The one decryptor state machine of the library, run by every path that decrypts (downloads, file
 * to file, the stream transformers). Its hashes go to `session`, so `final` is a promise when they
 * run elsewhere (a worker); the checks themselves all happen here, in `final`.
 */
export interface Core {
  readonly mediaType: MediaType.MediaType
  readonly update: (chunk: Uint8Array) => Uint8Array
  /** See `HashSession.ready`: whether `update` may be called again at once. */
  readonly ready: () => Promise<void> | undefined
  readonly final: () => Hashing.Later<Either.Either<Uint8Array, MediaIntegrityError>>
  readonly bytesIn: number
  readonly bytesOut: number
  /**
   * Whether its hash session writes the plaintext to the file the decryptor was opened with
   * (`HashSession.writesFile`): `update` and `final` then give plaintext that is written already.
   */
  readonly writesFile: boolean
}

/** Whether `plaintext` ends with valid PKCS7 padding; its length when it does. */
const paddingOf = (plaintext: Uint8Array): number | undefined => {
  const pad = plaintext.length === 0 ? 0 : plaintext[plaintext.length - 1]!
  if (pad < 1 || pad > BLOCK || pad > plaintext.length) return undefined
  for (let i = plaintext.length - pad; i < plaintext.length; i++) {
    if (plaintext[i] !== pad) return undefined
  }
  return pad
}

/** A decryptor of encrypted media whose hashes go to `session`. */
export const makeCore = (
  options: DecryptOptions,
  keys: MediaKeys.MediaKeys,
  session: HashSession
): Core => {
  const decipher: Decipher = createDecipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv)
  // Padding is checked here, after the MAC, so that each failure is reported as what it is.
  decipher.setAutoPadding(false)
  // Blob bytes received but not yet fed to the cipher: at least the last HOLD_BACK bytes seen.
  let pending: Uint8Array = empty
  let bytesIn = 0
  let bytesOut = 0
  let done = false

  const feed = (ciphertext: Uint8Array): Uint8Array => {
    if (ciphertext.length === 0) return empty
    const plaintext = asBytes(decipher.update(ciphertext))
    session.update(plaintext, ciphertext)
    bytesOut += plaintext.length
    return plaintext
  }

  const update = (chunk: Uint8Array): Uint8Array => {
    if (done) throw usedAfterFinal()
    if (chunk.length === 0) return empty
    bytesIn += chunk.length
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

  const final = (): Hashing.Later<Either.Either<Uint8Array, MediaIntegrityError>> => {
    if (done) throw usedAfterFinal()
    done = true
    if (bytesIn < HOLD_BACK || (bytesIn - MAC_LENGTH) % BLOCK !== 0) {
      return integrity("Truncated", `a blob is 16k + 10 bytes (k >= 1), got ${bytesIn}`)
    }
    const mac = pending.subarray(pending.length - MAC_LENGTH)
    const ciphertext = pending.subarray(0, pending.length - MAC_LENGTH)
    // Whole blocks only (checked above), so neither call can throw. The plaintext is only handed
    // over below, once the MAC and the padding are checked.
    const head = decipher.update(ciphertext)
    const last = decipher.final()
    const plaintext = asBytes(last.length === 0 ? head : Buffer.concat([head, last]))
    const pad = paddingOf(plaintext)
    const rest = plaintext.subarray(0, plaintext.length - (pad ?? 0))
    return Hashing.andThen(session.final(rest, ciphertext, mac), (digests) => {
      if (!equalBytes(digests.mac, mac)) return integrity("Mac")
      if (pad === undefined) return integrity("Padding")
      bytesOut += rest.length
      const checked = checkHashes(options, digests.fileSha256, digests.fileEncSha256, bytesOut)
      return Either.isLeft(checked) ? Either.left(checked.left) : Either.right(rest)
    })
  }

  return {
    mediaType: options.mediaType,
    update,
    ready: session.ready,
    final,
    get bytesIn() {
      return bytesIn
    },
    get bytesOut() {
      return bytesOut
    },
    writesFile: session.writesFile === true
  }
}

/** The "decryptor" of media sent as plaintext: its hashes and length are checked. */
const makeUnencrypted = (options: DecryptOptions): Core => {
  const passthrough = Passthrough.make("MediaDecryptor")
  return {
    mediaType: options.mediaType,
    update: passthrough.update,
    ready: () => undefined,
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
    },
    writesFile: false
  }
}

/** Whether the options decrypt (a key of encrypted media) rather than only check the hashes. */
const isEncrypted = (options: DecryptOptions): boolean =>
  options.mediaKey !== undefined && MediaType.isEncrypted(options.mediaType)

/**
 * Checks the key now (a bad one fails with `InvalidMediaKey`) and gives how to open a fresh
 * decryptor whose hashes go to a session of `open` (for a blob of `size` bytes, if known), offered
 * `file` for its plaintext (see `Core.writesFile`). Opening may wait, the first time, for
 * `MediaCrypto`'s worker to start, which a download overlaps with its first request.
 */
export const prepareCore = (
  options: DecryptOptions,
  open: Hashing.OpenSession,
  size: number | undefined,
  file?: PlaintextFile | undefined
): Effect.Effect<Effect.Effect<Core, never, Scope.Scope>, InvalidMediaKey> =>
  Effect.suspend(() =>
    !isEncrypted(options) ? Effect.succeed(Effect.sync(() => makeUnencrypted(options))) : Effect.map(
      MediaKeys.derive(options.mediaKey!, options.mediaType),
      (keys) => Effect.map(open(keys, size, "decrypt", file), (session) => makeCore(options, keys, session))
    )
  )

/** A fresh decryptor, as {@link prepareCore} opens it. */
export const openCore = (
  options: DecryptOptions,
  open: Hashing.OpenSession,
  size: number | undefined
): Effect.Effect<Core, InvalidMediaKey, Scope.Scope> => Effect.flatten(prepareCore(options, open, size))

/**
 * A core as the transformer that files, streams and bytes are run through (`fileTransform.ts`,
 * `blocks.ts`): its last plaintext once every check passed, or the first failed check.
 */
export const transformer = (core: Core): Transformer<void, MediaIntegrityError> => ({
  update: core.update,
  ready: core.ready,
  end: () => Hashing.andThen(core.final(), Either.map((rest) => [rest, undefined] as const))
})

/** A fresh decryptor; see `MediaDecryptor.make`. */
export const make = (options: DecryptOptions): Effect.Effect<MediaDecryptor, InvalidMediaKey> =>
  Effect.suspend(() =>
    !isEncrypted(options)
      ? Effect.succeed(Hashing.synchronous("MediaDecryptor", makeUnencrypted(options)))
      : Effect.map(
        MediaKeys.derive(options.mediaKey!, options.mediaType),
        (keys) => Hashing.synchronous("MediaDecryptor", makeCore(options, keys, Hashing.inline(keys)))
      )
  )
