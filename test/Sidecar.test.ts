import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Redacted } from "effect"
import { MediaEncryptor, MediaKeys, Sidecar } from "effect-wa-media"
import { createHmac } from "node:crypto"
import { arbCuts, concat, cut, pseudoRandomBytes } from "./bytes.js"
import { hex, toHex, vectors } from "./vectors.js"

// The reference: PROTOCOL.md section 4 read literally, slicing windows out of the whole of S.
const referenceSidecar = (macKey: Uint8Array, s: Uint8Array): Uint8Array => {
  const macs: Array<Uint8Array> = []
  const mac = (window: Uint8Array) => createHmac("sha256", macKey).update(window).digest().subarray(0, 10)
  const count = Math.floor((s.length - 16) / 65536)
  for (let k = 0; k < count; k++) macs.push(mac(s.subarray(k * 65536, k * 65536 + 65536 + 16)))
  macs.push(mac(s.subarray(Math.max(0, count) * 65536)))
  return concat(macs)
}

const macKey = pseudoRandomBytes(1, 32)

const incremental = (parts: ReadonlyArray<Uint8Array>) =>
  Effect.map(Sidecar.make(macKey), (sidecar) => {
    for (const part of parts) sidecar.update(part)
    assert.strictEqual(sidecar.bytesIn, parts.reduce((n, part) => n + part.length, 0))
    return sidecar.digest()
  })

// Lengths of S around the window boundaries (S always starts with the 16-byte IV).
const boundaryLengths = [
  16,
  17,
  42,
  65535,
  65536,
  65537,
  65551,
  65552,
  65553,
  65536 * 2 + 5,
  65536 * 2 + 15,
  65536 * 2 + 16,
  65536 * 2 + 17,
  65536 * 3 + 16
]

describe("Sidecar", () => {
  it.effect("matches the reference at window boundaries, one shot and fed in pieces", () =>
    Effect.gen(function*() {
      for (const length of boundaryLengths) {
        const s = pseudoRandomBytes(length, length)
        const expected = referenceSidecar(macKey, s)
        assert.strictEqual(expected.length, Sidecar.windowCount(length) * 10, `windows of ${length}`)
        assert.strictEqual(toHex(Sidecar.compute(macKey, s.subarray(0, 16), s.subarray(16))), toHex(expected))
        // Pieces that end just before, at and just after every boundary, plus odd-sized ones.
        const boundaryCuts = [1, 2, 3, 4].flatMap((k) =>
          [-17, -16, -15, -1, 0, 1, 15, 16, 17].map((d) => k * 65536 + d)
        ).filter((p) => p > 0 && p < length)
        for (const positions of [boundaryCuts, [16], Array.from({ length: 40 }, (_, i) => i * 7001)]) {
          assert.strictEqual(toHex(yield* incremental(cut(s, positions))), toHex(expected), `length ${length}`)
        }
      }
    }))

  it.effect("matches the reference byte by byte across two boundaries", () =>
    Effect.gen(function*() {
      const s = pseudoRandomBytes(7, 65536 * 2 + 40)
      const parts = Array.from({ length: s.length }, (_, i) => s.subarray(i, i + 1))
      assert.strictEqual(toHex(yield* incremental(parts)), toHex(referenceSidecar(macKey, s)))
    }))

  it.effect.prop(
    "matches the reference for any length and chunking",
    [fc.integer(), fc.nat(200 * 1024), arbCuts],
    ([seed, length, positions]) =>
      Effect.gen(function*() {
        const s = pseudoRandomBytes(seed, length + 16)
        assert.strictEqual(toHex(yield* incremental(cut(s, positions))), toHex(referenceSidecar(macKey, s)))
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("the encryptor's sidecar is the sidecar of iv || blob, for plaintexts around the boundaries", () =>
    Effect.gen(function*() {
      const keys = yield* MediaKeys.derive(hex(vectors.media_key), "video")
      const mac = Redacted.value(keys.macKey)
      for (const size of [0, 1, 65535 - 26, 65536 - 26, 65536 - 25, 65536 - 42, 65536, 65536 * 2 + 5, 3 * 65536]) {
        const { blob, result } = yield* MediaEncryptor.encryptBytes(pseudoRandomBytes(size, size), {
          mediaType: "video",
          mediaKey: hex(vectors.media_key)
        })
        const expected = referenceSidecar(mac, concat([keys.iv, blob]))
        assert.strictEqual(toHex(result.streamingSidecar!), toHex(expected), `plaintext of ${size} bytes`)
        assert.strictEqual(toHex(Sidecar.compute(keys.macKey, keys.iv, blob)), toHex(expected))
      }
    }))

  it("computes the first-frame sidecar over the IV and the first whole blocks", () => {
    const iv = pseudoRandomBytes(2, 16)
    const blob = pseudoRandomBytes(3, 16 * 10 + 10)
    const mac = (end: number) =>
      toHex(createHmac("sha256", macKey).update(iv).update(blob.subarray(0, end)).digest().subarray(0, 10))
    assert.strictEqual(toHex(Sidecar.firstFrameSidecar(macKey, iv, blob, 0)), mac(0))
    assert.strictEqual(toHex(Sidecar.firstFrameSidecar(macKey, iv, blob, 1)), mac(16))
    assert.strictEqual(toHex(Sidecar.firstFrameSidecar(macKey, iv, blob, 32)), mac(32))
    assert.strictEqual(toHex(Sidecar.firstFrameSidecar(macKey, iv, blob, 33)), mac(48))
    // Past the ciphertext: clamped, and the MAC is never included.
    assert.strictEqual(toHex(Sidecar.firstFrameSidecar(macKey, iv, blob, 10_000)), mac(160))
  })

  it.effect("cannot be fed after its digest", () =>
    Effect.gen(function*() {
      const sidecar = yield* Sidecar.make(macKey)
      sidecar.update(new Uint8Array(20))
      sidecar.digest()
      assert.throws(() => sidecar.update(new Uint8Array(1)))
    }))
})
