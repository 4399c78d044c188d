// The plain node:crypto baseline: the same work as the library (PROTOCOL.md sections 2 and 3), written
// the straightforward way, with no Effect.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from "node:crypto"
import { createReadStream, createWriteStream } from "node:fs"
import { rename } from "node:fs/promises"
import { pipeline } from "node:stream/promises"

export const MAC_LENGTH = 10
const HOLD_BACK = 16 + MAC_LENGTH

/** The read chunk size of the baseline's file streams. */
export const BASELINE_READ_CHUNK = 1024 * 1024

/** HKDF-SHA256 expansion of a media key, as in PROTOCOL.md section 2. */
export const deriveKeys = (mediaKey, info) => {
  const expanded = Buffer.from(hkdfSync("sha256", mediaKey, Buffer.alloc(32), info, 112))
  return { iv: expanded.subarray(0, 16), cipherKey: expanded.subarray(16, 48), macKey: expanded.subarray(48, 80) }
}

/** AES-256-CBC + HMAC-SHA256(iv || ciphertext)[0:10] + SHA-256 of the plaintext and of the blob. */
export const makeEncrypt = (keys) => {
  const cipher = createCipheriv("aes-256-cbc", keys.cipherKey, keys.iv)
  const hmac = createHmac("sha256", keys.macKey).update(keys.iv)
  const plainHash = createHash("sha256")
  const blobHash = createHash("sha256")
  return {
    update: (chunk) => {
      plainHash.update(chunk)
      const out = cipher.update(chunk)
      hmac.update(out)
      blobHash.update(out)
      return out
    },
    final: () => {
      const last = cipher.final()
      hmac.update(last)
      const tail = Buffer.concat([last, hmac.digest().subarray(0, MAC_LENGTH)])
      blobHash.update(tail)
      return { tail, fileSha256: plainHash.digest("hex"), fileEncSha256: blobHash.digest("hex") }
    }
  }
}

/**
 * Streaming decryption: the last 26 bytes (last cipher block and MAC) are held back, the MAC is checked
 * at the end, then padding (by the decipher), the plaintext and blob SHA-256 against `expected`.
 * With `verify` false, what a peer that verifies nothing does: the same decipher and hold-back, the
 * MAC dropped unchecked, no hash.
 */
export const makeDecrypt = (keys, expected, verify = true) => {
  const decipher = createDecipheriv("aes-256-cbc", keys.cipherKey, keys.iv)
  const hmac = verify ? createHmac("sha256", keys.macKey).update(keys.iv) : undefined
  const plainHash = verify ? createHash("sha256") : undefined
  const blobHash = verify ? createHash("sha256") : undefined
  let pending = Buffer.alloc(0)
  let length = 0
  const feed = (ciphertext) => {
    hmac?.update(ciphertext)
    const out = decipher.update(ciphertext)
    plainHash?.update(out)
    length += out.length
    return out
  }
  return {
    update: (chunk) => {
      blobHash?.update(chunk)
      if (chunk.length >= HOLD_BACK) {
        const ready = pending
        pending = chunk
        return feed(ready)
      }
      const joined = Buffer.concat([pending, chunk])
      pending = joined.subarray(Math.max(0, joined.length - HOLD_BACK))
      return feed(joined.subarray(0, joined.length - pending.length))
    },
    final: () => {
      const mac = pending.subarray(pending.length - MAC_LENGTH)
      const ciphertext = pending.subarray(0, pending.length - MAC_LENGTH)
      if (verify) {
        hmac.update(ciphertext)
        if (!timingSafeEqual(hmac.digest().subarray(0, MAC_LENGTH), mac)) throw new Error("baseline: bad MAC")
      }
      const rest = Buffer.concat([decipher.update(ciphertext), decipher.final()])
      length += rest.length
      if (verify) {
        plainHash.update(rest)
        if (plainHash.digest("hex") !== expected.fileSha256) throw new Error("baseline: bad fileSha256")
        if (blobHash.digest("hex") !== expected.fileEncSha256) throw new Error("baseline: bad fileEncSha256")
      }
      return { rest, length }
    }
  }
}

/** One-shot encryption of bytes in memory, returning the whole blob like `encryptBytes`. */
export const encryptBytes = (keys, plaintext) => {
  const encrypt = makeEncrypt(keys)
  const body = encrypt.update(plaintext)
  const { fileEncSha256, fileSha256, tail } = encrypt.final()
  return { blob: Buffer.concat([body, tail]), fileSha256, fileEncSha256 }
}

/** One-shot decryption of a blob in memory: MAC check first, then decipher and hashes. */
export const decryptBytes = (keys, blob, expected) => {
  const mac = blob.subarray(blob.length - MAC_LENGTH)
  const ciphertext = blob.subarray(0, blob.length - MAC_LENGTH)
  const digest = createHmac("sha256", keys.macKey).update(keys.iv).update(ciphertext).digest()
  if (!timingSafeEqual(digest.subarray(0, MAC_LENGTH), mac)) throw new Error("baseline: bad MAC")
  const decipher = createDecipheriv("aes-256-cbc", keys.cipherKey, keys.iv)
  const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()])
  if (createHash("sha256").update(plaintext).digest("hex") !== expected.fileSha256) {
    throw new Error("baseline: bad fileSha256")
  }
  if (createHash("sha256").update(blob).digest("hex") !== expected.fileEncSha256) {
    throw new Error("baseline: bad fileEncSha256")
  }
  return plaintext
}

/** File to file: fs read stream -> `transform` -> write stream to a temp file, renamed at the end. */
const transformFile = async (input, output, transform) => {
  const temp = `${output}.baseline.tmp`
  await pipeline(createReadStream(input, { highWaterMark: BASELINE_READ_CHUNK }), transform, createWriteStream(temp))
  await rename(temp, output)
}

export const encryptFile = async (keys, input, output) => {
  const encrypt = makeEncrypt(keys)
  let result
  await transformFile(input, output, async function*(source) {
    for await (const chunk of source) yield encrypt.update(chunk)
    result = encrypt.final()
    yield result.tail
  })
  return result
}

export const decryptFile = async (keys, input, output, expected) => {
  const decrypt = makeDecrypt(keys, expected)
  let length = 0
  await transformFile(input, output, async function*(source) {
    for await (const chunk of source) {
      const out = decrypt.update(chunk)
      if (out.length > 0) yield out
    }
    const end = decrypt.final()
    length = end.length
    if (end.rest.length > 0) yield end.rest
  })
  return length
}
