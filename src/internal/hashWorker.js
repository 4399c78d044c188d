// @ts-check
/**
 * The hash worker of `MediaCrypto`'s pool (`hashPool.ts`): a `worker_threads` worker that keeps the
 * hash state of many blobs at once, keyed by session id, and hashes the slots the main thread sends
 * (plaintext from the start of a slot, ciphertext from the offset the message gives) before
 * sending each slot back. A session opened with a file (a download's temp file) also writes each
 * slot's plaintext there, at the position the message gives, before the slot goes back, so that a
 * session's digests only leave once all its bytes are written. It also runs the cipher of cipher
 * sessions (an upload's second pass, whose hashes are already known): each plaintext buffer comes
 * back with its ciphertext written over it.
 *
 * BUNDLERS: this file is a separate entry point. The pool starts it as
 * `new URL("./hashWorker.js", import.meta.url)`, so a bundle must put a `hashWorker.js` (this file
 * with `mediaHashes.js` bundled in) beside the file that holds the pool. When it is missing, the pool
 * notices at start-up and every hash runs inline instead.
 *
 * @internal
 */
import { createCipheriv } from "node:crypto"
import { writeSync } from "node:fs"
import { parentPort } from "node:worker_threads"
import { encryptOver } from "./cipherInto.js"
import { makeHashes } from "./mediaHashes.js"

const port = parentPort
if (port === null) throw new Error("hashWorker.js runs as a worker_threads worker")

/** @type {Map<number, ReturnType<typeof makeHashes>>} */
const sessions = new Map()
/** @type {Map<number, import("node:crypto").Cipher>} */
const ciphers = new Map()
/** Sessions whose plaintext could not be written: they hash on, but write nothing more. */
const unwritable = new Set()

/**
 * Writes `bytes` at `position` of `fd` for session `id`; the first failure is told to the session.
 *
 * @param {number} id
 * @param {number | undefined} fd
 * @param {Uint8Array} bytes
 * @param {number} position
 */
const writePlaintext = (id, fd, bytes, position) => {
  if (fd === undefined || bytes.length === 0 || unwritable.has(id)) return
  try {
    let offset = 0
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset, position + offset)
  } catch (error) {
    unwritable.add(id)
    const { code, message } = /** @type {NodeJS.ErrnoException} */ (error)
    port.postMessage({ id, writeFailed: { code, message } })
  }
}

port.on("message", (message) => {
  switch (message.op) {
    case "open": {
      sessions.set(message.id, makeHashes(message.macKey, message.iv))
      break
    }
    case "update": {
      /** @type {ArrayBuffer} */
      const slot = message.slot
      const plaintext = new Uint8Array(slot, 0, message.plain)
      const hashes = sessions.get(message.id)
      hashes?.update(plaintext, new Uint8Array(slot, message.cipherAt, message.cipher))
      if (hashes !== undefined) writePlaintext(message.id, message.fd, plaintext, message.position)
      port.postMessage({ id: message.id, slot }, [slot])
      break
    }
    case "final": {
      const hashes = sessions.get(message.id)
      sessions.delete(message.id)
      if (hashes === undefined) throw new Error(`hashWorker: no session ${message.id}`)
      writePlaintext(message.id, message.fd, message.plain, message.position)
      unwritable.delete(message.id)
      port.postMessage({ id: message.id, digests: hashes.final(message.plain, message.cipher, message.mac) })
      break
    }
    case "cipher": {
      ciphers.set(message.id, createCipheriv("aes-256-cbc", message.cipherKey, message.iv))
      break
    }
    case "encrypt": {
      /** @type {ArrayBuffer} */
      const input = message.input
      const cipher = ciphers.get(message.id)
      if (cipher === undefined) throw new Error(`hashWorker: no cipher ${message.id}`)
      const { length } = encryptOver(cipher, input, message.length)
      port.postMessage({ id: message.id, ciphertext: input, length }, [input])
      break
    }
    case "encryptFinal": {
      const cipher = ciphers.get(message.id)
      ciphers.delete(message.id)
      if (cipher === undefined) throw new Error(`hashWorker: no cipher ${message.id}`)
      port.postMessage({ id: message.id, last: new Uint8Array(cipher.final()) })
      break
    }
    case "close": {
      sessions.delete(message.id)
      ciphers.delete(message.id)
      unwritable.delete(message.id)
      // Everything sent before the close has been handled (and written) by now.
      if (message.ack === true) port.postMessage({ id: message.id, closed: true })
      break
    }
  }
})

port.postMessage({ ready: true })
