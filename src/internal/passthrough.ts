/**
 * Unencrypted media (channel media, `product-catalog-image`): the bytes pass through unchanged
 * while their SHA-256 and length are taken. The encryptor and the decryptor both use it.
 */
import { createHash } from "node:crypto"

export interface Passthrough {
  readonly update: (chunk: Uint8Array) => Uint8Array
  /** The SHA-256 of everything that passed; the passthrough cannot be used after it. */
  readonly finish: () => Uint8Array
  readonly length: () => number
}

export const make = (owner: string): Passthrough => {
  const hash = createHash("sha256")
  let length = 0
  let done = false
  const usedAfterFinal = () => new Error(`${owner} used after final`)
  return {
    update: (chunk) => {
      if (done) throw usedAfterFinal()
      length += chunk.length
      hash.update(chunk)
      return chunk
    },
    finish: () => {
      if (done) throw usedAfterFinal()
      done = true
      return new Uint8Array(hash.digest())
    },
    length: () => length
  }
}
