import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { MediaKeys, MediaType } from "effect-wa-media"
import { hex, libraryName, toHex, vectors } from "./vectors.js"

describe("MediaKeys", () => {
  for (const [name, vector] of Object.entries(vectors.hkdf)) {
    it.effect(`derives the keys of ${name}`, () =>
      Effect.gen(function*() {
        const type = yield* MediaType.parse(libraryName(name))
        assert.strictEqual(MediaType.info(type).hkdfInfo, vector.info)
        const keys = yield* MediaKeys.derive(hex(vectors.media_key), type)
        assert.strictEqual(toHex(keys.iv), vector.iv)
        assert.strictEqual(toHex(Redacted.value(keys.cipherKey)), vector.cipher_key)
        assert.strictEqual(toHex(Redacted.value(keys.macKey)), vector.mac_key)
        assert.strictEqual(toHex(Redacted.value(keys.refKey)), vector.ref_key)
      }))
  }

  it.effect("rejects a key that is not 32 bytes with InvalidMediaKey", () =>
    Effect.gen(function*() {
      for (const length of [0, 16, 31, 33, 64]) {
        const error = yield* Effect.flip(MediaKeys.derive(new Uint8Array(length), "image"))
        assert.strictEqual(error._tag, "InvalidMediaKey")
        assert.strictEqual(error.length, length)
        assert.include(error.message, `got ${length}`)
      }
    }))

  it.effect("derives the media retry key", () =>
    Effect.sync(() => {
      const key = MediaKeys.hkdf(hex(vectors.media_retry.media_key!), vectors.media_retry.hkdf_info!, 32)
      assert.strictEqual(toHex(key), vectors.media_retry.retry_key)
    }))

  it("keeps keys out of printed output", () => {
    const key = Redacted.make(hex(vectors.media_key))
    assert.notInclude(String(key), "0001")
    assert.notInclude(JSON.stringify({ key }), "0001")
  })
})
