// @ts-check
/**
 * A cipher's output written into a buffer the caller keeps: for an encryption done with each
 * chunk's ciphertext before the next (`Encryptor.Core.updateReused`: file to file copies it, an
 * upload's first pass only hashes it), and for a cipher session's chunks, whose ciphertext is
 * written over their plaintext (`MediaCrypto.CipherSession`, an upload's second pass).
 *
 * `cipher.update(input)` returns a fresh buffer each time, and V8 treats its bytes as external
 * memory: it frees dead young buffers only when it collects the young generation, which the buffers
 * themselves force only once 32 MB of them have piled up (twice its default semi-space, whatever
 * the flags), and counts them against the old generation's limit until the next mark-compact. Asked
 * for a `latin1` string instead, node:crypto copies its output onto V8's young heap, where the next
 * scavenge frees it at once; the string is then written into the caller's buffer, byte for byte.
 * Measured on `wa-media encrypt` of 256 MiB: peak RSS 82 MiB instead of 106, for the same wall
 * time; on an upload's second pass, whose cipher runs on a worker that allocates little else, 30
 * MB less. Decryption keeps the decipher's own buffers: there the extra copy showed (a tenth of the
 * MB/s, file to file), and a decrypt's thread is its bottleneck.
 *
 * Plain JavaScript, like `mediaHashes.js`, because the hash worker (`hashWorker.js`) runs this very
 * file as the calling thread does.
 *
 * @internal
 */

/** Below V8's large-object size (128 KiB), so that each string is allocated young. */
const PIECE = 64 * 1024

/**
 * `cipher.update(input)` written into `target` from `offset`; returns how many bytes it wrote. A
 * target without room for them (`input.length` plus a block, at most) is a defect.
 *
 * @param {import("node:crypto").Cipher | import("node:crypto").Decipher} cipher
 * @param {Uint8Array} input
 * @param {Buffer} target
 * @param {number} offset
 * @returns {number}
 */
export const updateInto = (cipher, input, target, offset) => {
  let at = offset
  for (let start = 0; start < input.length; start += PIECE) {
    const text = cipher.update(input.subarray(start, start + PIECE), undefined, "latin1")
    const written = target.write(text, at, "latin1")
    if (written !== text.length) throw new Error("cipherInto: the target has no room for the output")
    at += written
  }
  return at - offset
}

/**
 * A chunk's ciphertext written over the chunk: the first `length` bytes of `input` are encrypted
 * and their ciphertext returned from its start. `input` holds at least `length + 16` bytes (CBC
 * may release a block held back from the chunk before). In place is safe: after each whole piece
 * (a multiple of the block) the cipher has put out exactly as many bytes as it read, so a piece's
 * output never reaches input not read yet; only the last piece's may run up to 15 bytes further.
 *
 * @param {import("node:crypto").Cipher} cipher
 * @param {ArrayBuffer} input
 * @param {number} length
 * @returns {Uint8Array}
 */
export const encryptOver = (cipher, input, length) =>
  new Uint8Array(input, 0, updateInto(cipher, new Uint8Array(input, 0, length), Buffer.from(input), 0))
