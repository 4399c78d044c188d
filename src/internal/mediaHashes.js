// @ts-check
/**
 * The three hashes of one encrypted blob, computed incrementally (docs/protocol.md section 3): SHA-256
 * of the plaintext, the MAC (HMAC-SHA256(macKey, iv || ciphertext), first 10 bytes) and SHA-256 of
 * the blob (ciphertext || MAC). Both directions feed the same streams: the encryptor its input and
 * output, the decryptor its output and the ciphertext it released from the MAC hold-back.
 *
 * Plain JavaScript rather than TypeScript because the hash worker (`hashWorker.js`) runs this very
 * file: a `.js` file is the same module under vitest (which runs the sources), from `dist`, and as
 * a bundler's separate entry point.
 *
 * @internal
 */
import { createHash, createHmac } from "node:crypto"

/** The length of the truncated HMAC at the end of every encrypted blob. */
export const MAC_LENGTH = 10

/** @typedef {import("../MediaCrypto.js").Digests} Digests */

/**
 * Fresh hash state for one blob.
 *
 * @param {Uint8Array} macKey
 * @param {Uint8Array} iv
 */
export const makeHashes = (macKey, iv) => {
  const plain = createHash("sha256")
  const blob = createHash("sha256")
  const hmac = createHmac("sha256", macKey).update(iv)
  /**
   * @param {Uint8Array} plaintext
   * @param {Uint8Array} ciphertext
   */
  const update = (plaintext, ciphertext) => {
    if (plaintext.length > 0) plain.update(plaintext)
    if (ciphertext.length > 0) {
      hmac.update(ciphertext)
      blob.update(ciphertext)
    }
  }
  /**
   * Ends the blob with its last bytes; `mac` is the MAC that ends the received blob, or `undefined`
   * when the blob ends with the computed one.
   *
   * @param {Uint8Array} plaintext
   * @param {Uint8Array} ciphertext
   * @param {Uint8Array | undefined} mac
   * @returns {Digests}
   */
  const final = (plaintext, ciphertext, mac) => {
    update(plaintext, ciphertext)
    const computed = new Uint8Array(hmac.digest().subarray(0, MAC_LENGTH))
    blob.update(mac ?? computed)
    return { fileSha256: new Uint8Array(plain.digest()), fileEncSha256: new Uint8Array(blob.digest()), mac: computed }
  }
  return { update, final }
}
