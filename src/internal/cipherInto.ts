/**
 * A cipher's output written into a buffer the caller keeps, for an encryption done with each
 * chunk's ciphertext before the next (`Encryptor.Core.updateReused`: file to file copies it, an
 * upload's first pass only hashes it).
 *
 * `cipher.update(input)` returns a fresh buffer each time, and V8 treats its bytes as external
 * memory: it frees dead young buffers only when it collects the young generation, which the buffers
 * themselves force only once 32 MB of them have piled up (twice its default semi-space, whatever
 * the flags), and counts them against the old generation's limit until the next mark-compact. Asked
 * for a `latin1` string instead, node:crypto copies its output onto V8's young heap, where the next
 * scavenge frees it at once; the string is then written into the caller's buffer, byte for byte.
 * Measured on `wa-media encrypt` of 256 MiB: peak RSS 82 MiB instead of 106, for the same wall
 * time. Decryption keeps the decipher's own buffers: there the extra copy showed (a tenth of the
 * MB/s, file to file), and a decrypt's thread is its bottleneck.
 *
 * @internal
 */
import type { Cipher, Decipher } from "node:crypto"

/** Below V8's large-object size (128 KiB), so that each string is allocated young. */
const PIECE = 64 * 1024

/**
 * `cipher.update(input)` written into `target` from `offset`; returns how many bytes it wrote. A
 * target without room for them (`input.length` plus a block, at most) is a defect.
 */
export const updateInto = (cipher: Cipher | Decipher, input: Uint8Array, target: Buffer, offset: number): number => {
  let at = offset
  for (let start = 0; start < input.length; start += PIECE) {
    const text = cipher.update(input.subarray(start, start + PIECE), undefined, "latin1")
    const written = target.write(text, at, "latin1")
    if (written !== text.length) throw new Error("cipherInto: the target has no room for the output")
    at += written
  }
  return at - offset
}
