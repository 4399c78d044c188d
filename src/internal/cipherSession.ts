/**
 * Where the cipher of a blob whose hashes are known runs (an upload's second pass): a
 * `CipherSession` takes the plaintext chunk by chunk and answers each with its ciphertext. The
 * inline session runs AES-256-CBC on the calling thread; the worker pool's (`hashPool.ts`) moves
 * each chunk to a worker and back, so that reading and sending overlap the cipher. Sessions come
 * from `MediaCrypto`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { createCipheriv } from "node:crypto"
import type { CipherSession } from "../MediaCrypto.js"
import type * as MediaKeys from "../MediaKeys.js"
import { asBytes } from "./bytes.js"
import * as CipherInto from "./cipherInto.js"

/** Opens the cipher of one blob of `size` bytes (`undefined`: unknown); closed with the scope. */
export type OpenCipher = (
  keys: MediaKeys.MediaKeys,
  size: number | undefined
) => Effect.Effect<CipherSession, never, Scope.Scope>

/** A session on the calling thread: every answer is there when `update` returns. */
export const inline = (keys: MediaKeys.MediaKeys): CipherSession => {
  const cipher = createCipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv)
  return {
    ahead: 1,
    update: (input, length) => CipherInto.encryptOver(cipher, input, length),
    final: () => asBytes(cipher.final())
  }
}

/** Inline sessions for every blob. */
export const openInline: OpenCipher = (keys) => Effect.sync(() => inline(keys))
