/**
 * The encryptor state machine behind `MediaEncryptor` (docs/protocol.md section 3), apart from the
 * stream forms so that `MediaFile` can use it without loading Effect's `Stream`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Cipher } from "node:crypto"
import { createCipheriv } from "node:crypto"
import type { HashSession } from "../MediaCrypto.js"
import type { EncryptOptions, EncryptResult, MediaEncryptor } from "../MediaEncryptor.js"
import { InvalidMediaKey } from "../MediaError.js"
import * as MediaKeys from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"
import * as Sidecar from "../Sidecar.js"
import { asBytes } from "./bytes.js"
import * as CipherInto from "./cipherInto.js"
import type { Transformer } from "./fileTransform.js"
import * as Hashing from "./hashing.js"
import { MAC_LENGTH } from "./mediaHashes.js"
import * as Passthrough from "./passthrough.js"

export { MAC_LENGTH }

/** The AES block: CBC output is at most one block longer than its input. */
export const BLOCK = 16

const usedAfterFinal = () => new Error("MediaEncryptor used after final")

/** The end of an encryption: the last blob bytes (last cipher block and MAC) and the result. */
export interface Final {
  readonly tail: Uint8Array
  readonly result: EncryptResult
}

/**
 * The one encryptor state machine of the library, run by every path that encrypts (the stream
 * transformers, file to file, an upload's first pass; the second pass sends what the first
 * hashed, so it only runs the cipher, on a `MediaCrypto.CipherSession`, and checks the last
 * block). Its hashes go to `session`, so `final` is a promise when they run elsewhere (a worker);
 * everything else happens here.
 */
export interface Core {
  readonly mediaType: MediaType.MediaType
  readonly update: (chunk: Uint8Array) => Uint8Array
  /**
   * `update` for a caller done with each output before the next chunk (file to file copies it, an
   * upload's first pass only hashes it): the output is valid until the next call. A cipher writes
   * every chunk's output into the same buffer, grown to the largest chunk (cipherInto.ts says why).
   */
  readonly updateReused: (chunk: Uint8Array) => Uint8Array
  /** See `HashSession.ready`: whether `update` may be called again at once. */
  readonly ready: () => Promise<void> | undefined
  readonly final: () => Hashing.Later<Final>
  readonly bytesIn: number
  readonly bytesOut: number
}

/** What an encryption of encrypted media needs once its options were validated. */
export interface Plan {
  readonly mediaType: MediaType.MediaType
  readonly mediaKey: MediaKeys.MediaKey
  readonly keys: MediaKeys.MediaKeys
  readonly sidecar: boolean
}

/** An encryptor of encrypted media whose hashes go to `session`. */
export const makeCore = (plan: Plan, session: HashSession): Core => {
  const { keys, mediaKey, mediaType } = plan
  const cipher: Cipher = createCipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv)
  const sidecar = plan.sidecar ? Sidecar.unsafeMake(keys.macKey) : undefined
  sidecar?.update(keys.iv)
  let bytesIn = 0
  let bytesOut = 0
  let done = false

  /** Everything but the cipher: the hashes, the sidecar and the counts of one chunk and its output. */
  const absorb = (chunk: Uint8Array, out: Uint8Array) => {
    bytesIn += chunk.length
    session.update(chunk, out)
    sidecar?.update(out)
    bytesOut += out.length
  }

  const update = (chunk: Uint8Array): Uint8Array => {
    if (done) throw usedAfterFinal()
    const out = asBytes(cipher.update(chunk))
    absorb(chunk, out)
    return out
  }

  let reused = Buffer.alloc(0)
  const updateReused = (chunk: Uint8Array): Uint8Array => {
    if (done) throw usedAfterFinal()
    if (reused.length < chunk.length + BLOCK) reused = Buffer.alloc(chunk.length + BLOCK)
    const out = reused.subarray(0, CipherInto.updateInto(cipher, chunk, reused, 0))
    absorb(chunk, out)
    return out
  }

  const final = (): Hashing.Later<Final> => {
    if (done) throw usedAfterFinal()
    done = true
    const last = asBytes(cipher.final())
    return Hashing.andThen(session.final(empty, last, undefined), (digests) => {
      const tail = new Uint8Array(last.length + MAC_LENGTH)
      tail.set(last, 0)
      tail.set(digests.mac, last.length)
      sidecar?.update(tail)
      bytesOut += tail.length
      const result: EncryptResult = {
        mediaType,
        mediaKey,
        fileSha256: digests.fileSha256,
        fileEncSha256: digests.fileEncSha256,
        fileLength: bytesIn,
        ...(sidecar === undefined ? {} : { streamingSidecar: sidecar.digest() })
      }
      return { tail, result }
    })
  }

  return {
    mediaType,
    update,
    updateReused,
    ready: session.ready,
    final,
    get bytesIn() {
      return bytesIn
    },
    get bytesOut() {
      return bytesOut
    }
  }
}

const empty = new Uint8Array(0)

/** The "encryptor" of media sent as plaintext: its SHA-256 and length. */
export const makeUnencrypted = (mediaType: MediaType.MediaType): Core => {
  const passthrough = Passthrough.make("MediaEncryptor")
  return {
    mediaType,
    update: passthrough.update,
    // The output is the chunk itself: nothing to reuse.
    updateReused: passthrough.update,
    ready: () => undefined,
    final: (): Final => {
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

/** Validated options: the plan of encrypted media, `undefined` for media sent as plaintext. */
export interface Prepared {
  readonly mediaType: MediaType.MediaType
  readonly plan: Plan | undefined
}

/**
 * Validates the options once (deriving the keys), so that every run of a stream or pass starts a
 * fresh encryptor from them without deriving again.
 */
export const prepare = (options: EncryptOptions): Effect.Effect<Prepared, InvalidMediaKey> =>
  Effect.suspend(() => {
    const { mediaType } = options
    if (!MediaType.isEncrypted(mediaType)) return Effect.succeed({ mediaType, plan: undefined })
    const mediaKey = options.mediaKey
    if (mediaKey === undefined) return Effect.fail(new InvalidMediaKey({ length: 0 }))
    const redacted = Redacted.isRedacted(mediaKey) ? mediaKey : Redacted.make(mediaKey)
    const sidecar = options.sidecar ?? MediaType.hasStreamingSidecar(mediaType)
    return Effect.map(
      MediaKeys.derive(redacted, mediaType),
      (keys): Prepared => ({ mediaType, plan: { mediaType, mediaKey: redacted, keys, sidecar } })
    )
  })

/**
 * A core as the transformer that streams and bytes are run through (`blocks.ts`): fresh output
 * for every chunk, then its last bytes and result once the hashes are in.
 */
export const transformer = (core: Core): Transformer<EncryptResult, never> => ({
  update: core.update,
  ready: core.ready,
  end: () => Hashing.andThen(core.final(), ({ result, tail }) => Either.right([tail, result] as const))
})

/** A core as the transformer of a file (`fileTransform.ts`), which copies each output before the next `update`. */
export const fileTransformer = (core: Core): Transformer<EncryptResult, never> => ({
  ...transformer(core),
  update: core.updateReused
})

/** A fresh encryptor that hashes on the calling thread. */
export const inlineCore = (prepared: Prepared): Core =>
  prepared.plan === undefined
    ? makeUnencrypted(prepared.mediaType)
    : makeCore(prepared.plan, Hashing.inline(prepared.plan.keys))

/** A fresh encryptor whose hashes go to a session of `open` (for `size` plaintext bytes, if known). */
export const openCore = (
  prepared: Prepared,
  open: Hashing.OpenSession,
  size: number | undefined
): Effect.Effect<Core, never, Scope.Scope> => {
  const plan = prepared.plan
  if (plan === undefined) return Effect.sync(() => makeUnencrypted(prepared.mediaType))
  return Effect.map(open(plan.keys, size, "encrypt"), (session) => makeCore(plan, session))
}

/** A fresh synchronous encryptor, as the public `MediaEncryptor` state machine. */
export const fresh = (prepared: Prepared): MediaEncryptor => Hashing.synchronous("MediaEncryptor", inlineCore(prepared))

/** A fresh encryptor; see `MediaEncryptor.make`. */
export const make = (options: EncryptOptions): Effect.Effect<MediaEncryptor, InvalidMediaKey> =>
  Effect.map(prepare(options), fresh)

/** The blob length of a plaintext of `fileLength` bytes; see `MediaEncryptor.blobLength`. */
export const blobLength = (mediaType: MediaType.MediaType, fileLength: number): number =>
  MediaType.isEncrypted(mediaType) ? BLOCK * (Math.floor(fileLength / BLOCK) + 1) + MAC_LENGTH : fileLength
