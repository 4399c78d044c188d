import { assert, describe, it } from "@effect/vitest"
import * as PlaintextBytes from "../src/internal/plaintextBytes.js"

const bytes = (...values: Array<number>) => new Uint8Array(values)

describe("PlaintextBytes", () => {
  it("joins the pieces when the length is never told", () => {
    const plaintext = PlaintextBytes.make()
    plaintext.write([bytes(1, 2), bytes(3)])
    plaintext.write([bytes(4)])
    assert.deepStrictEqual(plaintext.result(), bytes(1, 2, 3, 4))
  })

  it("fills one array of the told length, with the pieces held before it was told", () => {
    const plaintext = PlaintextBytes.make()
    plaintext.write([bytes(1)])
    plaintext.expect(4)
    // A reused array: what was written must have been copied or kept, not referenced.
    const reused = [bytes(2, 3)]
    plaintext.write(reused)
    reused[0]!.fill(9)
    plaintext.write([bytes(4)])
    const result = plaintext.result()
    assert.deepStrictEqual(result, bytes(1, 2, 3, 4))
    assert.strictEqual(result.buffer.byteLength, 4, "one array of the told length, not a join")
    assert.strictEqual(plaintext.result(), result)
  })

  it("keeps every byte past the told length, and ignores a length below what it holds", () => {
    const longer = PlaintextBytes.make()
    longer.expect(2)
    longer.write([bytes(1, 2), bytes(3)])
    assert.deepStrictEqual(longer.result(), bytes(1, 2, 3))
    const shorter = PlaintextBytes.make()
    shorter.write([bytes(1, 2, 3)])
    shorter.expect(2)
    shorter.write([bytes(4)])
    assert.deepStrictEqual(shorter.result(), bytes(1, 2, 3, 4))
  })

  it("starts over empty after a reset, in the same array", () => {
    const plaintext = PlaintextBytes.make()
    plaintext.expect(3)
    plaintext.write([bytes(7, 7)])
    plaintext.reset()
    plaintext.expect(3)
    plaintext.write([bytes(1, 2, 3)])
    assert.deepStrictEqual(plaintext.result(), bytes(1, 2, 3))
    const unsized = PlaintextBytes.make()
    unsized.write([bytes(7)])
    unsized.reset()
    unsized.write([bytes(1)])
    assert.deepStrictEqual(unsized.result(), bytes(1))
  })
})
