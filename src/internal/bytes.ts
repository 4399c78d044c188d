/**
 * Byte helpers shared by the crypto state machines.
 *
 * @internal
 */
import { timingSafeEqual } from "node:crypto"

/**
 * A plain `Uint8Array` view of node:crypto's output (a `Buffer`), without copying: users get the
 * `Uint8Array` semantics they expect (`slice` copies, `deepStrictEqual` compares as bytes).
 *
 * @internal
 */
export const asBytes = (bytes: Uint8Array): Uint8Array =>
  bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/**
 * Whether two byte arrays hold the same bytes, in constant time for equal lengths (digests and
 * keys are compared with it).
 *
 * @internal
 */
export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b)
