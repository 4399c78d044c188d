/**
 * The encryptor state machine behind `MediaEncryptor` (PROTOCOL.md section 3), apart from the
 * stream forms so that `MediaFile` can use it without loading Effect's `Stream`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { Cipher, Hash, Hmac } from "node:crypto"
import { createCipheriv, createHash, createHmac } from "node:crypto"
import type { EncryptOptions, EncryptResult, MediaEncryptor } from "../MediaEncryptor.js"
import { InvalidMediaKey } from "../MediaError.js"
import * as MediaKeys from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"
import * as Sidecar from "../Sidecar.js"
import { asBytes } from "./bytes.js"
import * as Passthrough from "./passthrough.js"

/** The length of the truncated HMAC at the end of every encrypted blob. */
export const MAC_LENGTH = 10

const usedAfterFinal = () => new Error("MediaEncryptor used after final")

const makeEncrypted = (
  mediaType: MediaType.MediaType,
  mediaKey: MediaKeys.MediaKey,
  keys: MediaKeys.MediaKeys,
  withSidecar: boolean
): MediaEncryptor => {
  const cipher: Cipher = createCipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv)
  const hmac: Hmac = createHmac("sha256", Redacted.value(keys.macKey)).update(keys.iv)
  const plainHash: Hash = createHash("sha256")
  const blobHash: Hash = createHash("sha256")
  const sidecar = withSidecar ? Sidecar.unsafeMake(keys.macKey) : undefined
  sidecar?.update(keys.iv)
  let bytesIn = 0
  let bytesOut = 0
  let done = false

  const update = (chunk: Uint8Array): Uint8Array => {
    if (done) throw usedAfterFinal()
    bytesIn += chunk.length
    plainHash.update(chunk)
    const out = asBytes(cipher.update(chunk))
    hmac.update(out)
    blobHash.update(out)
    sidecar?.update(out)
    bytesOut += out.length
    return out
  }

  const final = () => {
    if (done) throw usedAfterFinal()
    done = true
    const last = cipher.final()
    hmac.update(last)
    const tail = new Uint8Array(last.length + MAC_LENGTH)
    tail.set(last, 0)
    tail.set(hmac.digest().subarray(0, MAC_LENGTH), last.length)
    blobHash.update(tail)
    sidecar?.update(tail)
    bytesOut += tail.length
    const result: EncryptResult = {
      mediaType,
      mediaKey,
      fileSha256: new Uint8Array(plainHash.digest()),
      fileEncSha256: new Uint8Array(blobHash.digest()),
      fileLength: bytesIn,
      ...(sidecar === undefined ? {} : { streamingSidecar: sidecar.digest() })
    }
    return { tail, result }
  }

  return {
    mediaType,
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

const makeUnencrypted = (mediaType: MediaType.MediaType): MediaEncryptor => {
  const passthrough = Passthrough.make("MediaEncryptor")
  return {
    mediaType,
    update: passthrough.update,
    final: () => {
      const digest = passthrough.finish()
      const result: EncryptResult = {
        mediaType,
        mediaKey: undefined,
        fileSha256: digest,
        fileEncSha256: digest,
        fileLength: passthrough.length()
      }
      return { tail: new Uint8Array(0), result }
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
 * Validates the options once (deriving the keys) and returns a factory of fresh encryptors, so that
 * every run of a stream starts clean without deriving again.
 */
export const prepare = (options: EncryptOptions): Effect.Effect<() => MediaEncryptor, InvalidMediaKey> =>
  Effect.suspend(() => {
    const { mediaType } = options
    if (!MediaType.isEncrypted(mediaType)) return Effect.succeed(() => makeUnencrypted(mediaType))
    const mediaKey = options.mediaKey
    if (mediaKey === undefined) return Effect.fail(new InvalidMediaKey({ length: 0 }))
    const redacted = Redacted.isRedacted(mediaKey) ? mediaKey : Redacted.make(mediaKey)
    const withSidecar = options.sidecar ?? MediaType.hasStreamingSidecar(mediaType)
    return Effect.map(
      MediaKeys.derive(redacted, mediaType),
      (keys) => () => makeEncrypted(mediaType, redacted, keys, withSidecar)
    )
  })

/** A fresh encryptor; see `MediaEncryptor.make`. */
export const make = (options: EncryptOptions): Effect.Effect<MediaEncryptor, InvalidMediaKey> =>
  Effect.map(prepare(options), (fresh) => fresh())

/** The blob length of a plaintext of `fileLength` bytes; see `MediaEncryptor.blobLength`. */
export const blobLength = (mediaType: MediaType.MediaType, fileLength: number): number =>
  MediaType.isEncrypted(mediaType) ? 16 * (Math.floor(fileLength / 16) + 1) + MAC_LENGTH : fileLength
