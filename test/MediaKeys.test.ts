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

  it.effect("reads a key from standard base64 strictly, never quoting it", () =>
    Effect.gen(function*() {
      const text = Buffer.from(hex(vectors.media_key)).toString("base64")
      const key = yield* MediaKeys.fromBase64(text)
      assert.deepStrictEqual(Redacted.value(key), hex(vectors.media_key))
      // Node's decoder would skip the stray characters and hand over 32 bytes for most of these.
      for (const bad of [`${text.slice(0, 10)}!${text.slice(11)}`, `${text} `, text.slice(0, -1), `\n${text}`]) {
        const error = yield* Effect.flip(MediaKeys.fromBase64(bad))
        assert.strictEqual(error._tag, "InvalidMediaKey")
        assert.strictEqual(error.reason, "NotBase64")
        assert.strictEqual(error.message, "a media key must be standard base64")
      }
      const short = yield* Effect.flip(MediaKeys.fromBase64(Buffer.alloc(31).toString("base64")))
      assert.strictEqual(short.reason, "WrongLength")
      assert.strictEqual(short.length, 31)
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
