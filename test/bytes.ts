// Byte helpers shared by the crypto tests: fast deterministic pseudo-random bytes (fast-check
// would draw large arrays element by element) and arbitrary chunkings.
import { FastCheck as fc } from "effect"
import { createCipheriv, createHash } from "node:crypto"

/** `length` pseudo-random bytes from a seed: the AES-128-CTR keystream of the seed's hash. */
export const pseudoRandomBytes = (seed: number, length: number): Uint8Array => {
  const key = createHash("sha256").update(`seed ${seed}`).digest()
  const cipher = createCipheriv("aes-128-ctr", key.subarray(0, 16), key.subarray(16, 32))
  return new Uint8Array(cipher.update(new Uint8Array(length)))
}

export const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Cuts `bytes` at the given positions (taken modulo its length + 1; empty pieces are kept). */
export const cut = (bytes: Uint8Array, positions: ReadonlyArray<number>): Array<Uint8Array> => {
  const sorted = positions.map((p) => p % (bytes.length + 1)).sort((a, b) => a - b)
  const parts: Array<Uint8Array> = []
  let previous = 0
  for (const position of sorted) {
    parts.push(bytes.subarray(previous, position))
    previous = position
  }
  parts.push(bytes.subarray(previous))
  return parts
}

/** Sizes biased towards the 64 KiB sidecar windows and the 16-byte cipher blocks. */
export const arbSize = (max: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.nat(max),
    fc.nat(64),
    fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -48, max: 48 })).map(([k, d]) =>
      Math.max(0, Math.min(max, k * 65536 + d))
    )
  )

/** Pseudo-random bytes of an arbitrary size up to `max`. */
export const arbBytes = (max: number): fc.Arbitrary<Uint8Array> =>
  fc.tuple(fc.integer(), arbSize(max)).map(([seed, size]) => pseudoRandomBytes(seed, size))

/** Cut positions: a few anywhere, or many close together (tiny pieces). */
export const arbCuts: fc.Arbitrary<Array<number>> = fc.oneof(
  fc.array(fc.nat(), { maxLength: 12 }),
  fc.tuple(fc.nat(), fc.array(fc.nat(40), { maxLength: 60 })).map(([start, steps]) => {
    let position = start
    return steps.map((step) => (position += step))
  })
)

export const toBase64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")
