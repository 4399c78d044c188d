/**
 * The decryptor state machine behind `MediaDecryptor` (PROTOCOL.md section 3), apart from the
 * stream forms so that `MediaFile` can use it without loading Effect's `Stream`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type { Decipher, Hash, Hmac } from "node:crypto"
import { createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto"
import type { DecryptOptions, MediaDecryptor } from "../MediaDecryptor.js"
import type { InvalidMediaKey } from "../MediaError.js"
import { MediaIntegrityError } from "../MediaError.js"
import * as MediaKeys from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"
import { asBytes } from "./bytes.js"
import { MAC_LENGTH } from "./encryptor.js"
import * as Passthrough from "./passthrough.js"

const BLOCK = 16
/** The bytes never fed to the cipher before the end: the last cipher block and the MAC. */
const HOLD_BACK = BLOCK + MAC_LENGTH

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

/** A fresh decryptor; see `MediaDecryptor.make`. */
export const make = (options: DecryptOptions): Effect.Effect<MediaDecryptor, InvalidMediaKey> =>
  Effect.suspend(() =>
    options.mediaKey === undefined || !MediaType.isEncrypted(options.mediaType)
      ? Effect.succeed(makeUnencrypted(options))
      : Effect.map(MediaKeys.derive(options.mediaKey, options.mediaType), (keys) => makeEncrypted(options, keys))
  )
