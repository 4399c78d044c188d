import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Redacted } from "effect"
import { MediaEncryptor, MediaKeys } from "effect-wa-media"
import { createCipheriv } from "node:crypto"
import * as BlockHasher from "../src/internal/blockHasher.js"
import { toHex } from "./vectors.js"

const BLOCK = 64 * 1024

const pattern = (length: number, seed: number) => {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 11)) & 0xff
  return bytes
}

/** Runs `plaintext` through a hasher block by block, as the upload's first pass does. */
const digestsOf = (hasher: BlockHasher.BlockHasher, keys: MediaKeys.MediaKeys, plaintext: Uint8Array) =>
  Effect.gen(function*() {
    const cipher = createCipheriv("aes-256-cbc", Redacted.value(keys.cipherKey), keys.iv)
    for (let offset = 0; offset < plaintext.length; offset += BLOCK) {
      const buffer = yield* hasher.buffer
      const block = plaintext.subarray(offset, offset + BLOCK)
      buffer.set(block)
      hasher.update(buffer, block.length, cipher.update(buffer.subarray(0, block.length)))
    }
    const last = cipher.final()
    const digests = yield* hasher.final(last)
    return { ...digests, last }
  })

describe("BlockHasher", () => {
  for (const length of [0, 1000, BLOCK, 9 * BLOCK + 17]) {
    it.scoped(`inline and worker give MediaEncryptor's hashes and MAC (${length} bytes)`, () =>
      Effect.gen(function*() {
        const mediaKey = pattern(32, length)
        const plaintext = pattern(length, 3)
        const expected = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: "document", mediaKey })
        const keys = yield* MediaKeys.derive(yield* MediaKeys.fromBytes(mediaKey), "document")
        const inline = yield* digestsOf(BlockHasher.makeInline(keys, BLOCK), keys, plaintext)
        // A pool of 2 for 10 blocks: buffers must come back from the worker to be reused.
        const worker = yield* digestsOf(yield* BlockHasher.makeWorker(keys, BLOCK, 2), keys, plaintext)
        const blob = expected.blob
        for (const got of [inline, worker]) {
          assert.strictEqual(toHex(got.fileSha256), toHex(expected.result.fileSha256))
          assert.strictEqual(toHex(got.fileEncSha256), toHex(expected.result.fileEncSha256))
          assert.strictEqual(toHex(got.mac), toHex(blob.subarray(blob.length - 10)))
        }
      }))
  }

  it.scoped("a buffer that is not the pool's is a defect, not a hang", () =>
    Effect.gen(function*() {
      const keys = yield* MediaKeys.derive(yield* MediaKeys.fromBytes(pattern(32, 1)), "document")
      const hasher = yield* BlockHasher.makeWorker(keys, BLOCK, 1)
      const exit = yield* Effect.exit(Effect.sync(() => hasher.update(new Uint8Array(BLOCK), BLOCK, new Uint8Array(0))))
      assert.isTrue(exit._tag === "Failure")
    }))

  it.scoped("a worker that fails makes both waits defects, not hangs", () =>
    Effect.gen(function*() {
      const keys = yield* MediaKeys.derive(yield* MediaKeys.fromBytes(pattern(32, 1)), "document")
      const hasher = yield* BlockHasher.makeWorker(keys, BLOCK, 2)
      // Not bytes: the worker's HMAC throws, and the worker dies with it.
      const final = yield* Effect.exit(hasher.final(5 as unknown as Uint8Array))
      assert.isTrue(Exit.isFailure(final) && Cause.isDie(final.cause))
      // The two free buffers are still handed out; the next wait dies instead of waiting forever.
      yield* hasher.buffer
      yield* hasher.buffer
      const buffer = yield* Effect.exit(hasher.buffer)
      assert.isTrue(Exit.isFailure(buffer) && Cause.isDie(buffer.cause))
    }))
})
