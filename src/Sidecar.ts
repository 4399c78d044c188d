/**
 * docs/protocol.md section 4: the streaming sidecar of video and audio, which lets a player verify and
 * decrypt a byte range without the whole file.
 *
 * With `S = iv || ciphertext || mac10`, full window `k` is `S[k * 65536 : k * 65536 + 65552]` (64 KiB
 * plus the 16 bytes after it, the next window's CBC IV) for `k < K = floor((len(S) - 16) / 65536)`,
 * and one last window `S[K * 65536 : len(S)]` always follows. The sidecar is the concatenation of
 * `HMAC-SHA256(macKey, window)[0:10]` over every window.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { Hmac } from "node:crypto"
import { createHmac } from "node:crypto"

/**
 * The stride between windows: each window starts this many bytes after the previous one.
 *
 * @since 0.1.0
 * @category constants
 */
export const WINDOW_STRIDE = 65536

/**
 * How far a full window reaches past the next window's start (the next window's CBC IV).
 *
 * @since 0.1.0
 * @category constants
 */
export const WINDOW_OVERLAP = 16

/**
 * The length of each window's truncated HMAC in the sidecar.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAC_LENGTH = 10

/**
 * An incremental sidecar computation, fed with the bytes of `S = iv || ciphertext || mac10` in
 * order, in chunks of any size. It is mutable: create one per pass.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sidecar {
  /** Feeds the next bytes of `S`. The bytes are hashed at once and never retained. */
  readonly update: (bytes: Uint8Array) => void
  /** Ends the input and returns the sidecar (10 bytes per window). The sidecar is unusable afterwards. */
  readonly digest: () => Uint8Array
  /** How many bytes of `S` were fed so far. */
  readonly bytesIn: number
}

const keyBytes = (macKey: Redacted.Redacted<Uint8Array> | Uint8Array): Uint8Array =>
  Redacted.isRedacted(macKey) ? Redacted.value(macKey) : macKey

/**
 * Creates a sidecar computation synchronously (for code that already runs inside a suspended effect
 * or channel, such as the encryptor).
 *
 * @since 0.1.0
 * @category unsafe
 */
export const unsafeMake = (macKey: Redacted.Redacted<Uint8Array> | Uint8Array): Sidecar => {
  const key = keyBytes(macKey)
  const macs: Array<Uint8Array> = []
  // `current` is the window that starts at `start`; `next` the one that starts at
  // `start + WINDOW_STRIDE`, live only while both windows share their 16 overlapping bytes.
  let current: Hmac = createHmac("sha256", key)
  let next: Hmac | undefined = undefined
  let start = 0
  let position = 0
  let done = false

  const update = (bytes: Uint8Array): void => {
    if (done) throw new Error("Sidecar.update called after digest")
    const length = bytes.length
    let offset = 0
    while (offset < length) {
      if (next === undefined) {
        const n = Math.min(length - offset, start + WINDOW_STRIDE - position)
        current.update(offset === 0 && n === length ? bytes : bytes.subarray(offset, offset + n))
        offset += n
        position += n
        if (position === start + WINDOW_STRIDE) next = createHmac("sha256", key)
      } else {
        const n = Math.min(length - offset, start + WINDOW_STRIDE + WINDOW_OVERLAP - position)
        const overlap = bytes.subarray(offset, offset + n)
        current.update(overlap)
        next.update(overlap)
        offset += n
        position += n
        if (position === start + WINDOW_STRIDE + WINDOW_OVERLAP) {
          // A window that reached its full length is always a full window: the last window starts
          // where it ends minus the overlap, and holds at least the 16 bytes just fed to `next`.
          macs.push(current.digest().subarray(0, MAC_LENGTH))
          current = next
          next = undefined
          start += WINDOW_STRIDE
        }
      }
    }
  }

  const digest = (): Uint8Array => {
    if (done) throw new Error("Sidecar.digest called twice")
    done = true
    // The window being filled is the last one; a `next` that only got part of its first 16 bytes
    // belongs to no window.
    macs.push(current.digest().subarray(0, MAC_LENGTH))
    const out = new Uint8Array(macs.length * MAC_LENGTH)
    for (let i = 0; i < macs.length; i++) out.set(macs[i]!, i * MAC_LENGTH)
    return out
  }

  return {
    update,
    digest,
    get bytesIn() {
      return position
    }
  }
}

/**
 * Creates a sidecar computation for one pass over `S = iv || ciphertext || mac10`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Sidecar } from "effect-wa-media"
 *
 * const program = (macKey: Uint8Array, iv: Uint8Array, chunks: ReadonlyArray<Uint8Array>) =>
 *   Effect.map(Sidecar.make(macKey), (sidecar) => {
 *     sidecar.update(iv)
 *     for (const chunk of chunks) sidecar.update(chunk)
 *     return sidecar.digest()
 *   })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (macKey: Redacted.Redacted<Uint8Array> | Uint8Array): Effect.Effect<Sidecar> =>
  Effect.sync(() => unsafeMake(macKey))

/**
 * The number of windows (and so of 10-byte MACs) of the sidecar of an `S` of `length` bytes.
 *
 * @since 0.1.0
 * @category getters
 */
export const windowCount = (length: number): number =>
  length < WINDOW_OVERLAP ? 1 : Math.floor((length - WINDOW_OVERLAP) / WINDOW_STRIDE) + 1

/**
 * The sidecar of a whole blob in one go, where `blob = ciphertext || mac10` as uploaded (the IV is
 * prepended here).
 *
 * @since 0.1.0
 * @category constructors
 */
export const compute = (
  macKey: Redacted.Redacted<Uint8Array> | Uint8Array,
  iv: Uint8Array,
  blob: Uint8Array
): Uint8Array => {
  const sidecar = unsafeMake(macKey)
  sidecar.update(iv)
  sidecar.update(blob)
  return sidecar.digest()
}

/**
 * The optional `firstFrameSidecar`: `HMAC-SHA256(macKey, iv || ciphertext[0 : ceil16(firstFrameLength)])[0:10]`,
 * where `blob = ciphertext || mac10` as uploaded and `firstFrameLength` counts plaintext bytes. A
 * length past the end of the ciphertext is clamped to it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const firstFrameSidecar = (
  macKey: Redacted.Redacted<Uint8Array> | Uint8Array,
  iv: Uint8Array,
  blob: Uint8Array,
  firstFrameLength: number
): Uint8Array => {
  const ciphertextLength = Math.max(0, blob.length - MAC_LENGTH)
  const wanted = Math.ceil(Math.max(0, firstFrameLength) / 16) * 16
  const end = Math.min(ciphertextLength, wanted)
  const mac = createHmac("sha256", keyBytes(macKey)).update(iv).update(blob.subarray(0, end)).digest()
  return new Uint8Array(mac.subarray(0, MAC_LENGTH))
}
