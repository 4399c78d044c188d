import { assert, describe, it } from "@effect/vitest"
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import * as CipherInto from "../src/internal/cipherInto.js"

const key = randomBytes(32)
const iv = randomBytes(16)

describe("cipherInto", () => {
  it("writes what cipher.update returns, byte for byte, across pieces and partial blocks", () => {
    // Sizes below, at and above a 64 KiB piece, not multiples of the block, and empty ones.
    const sizes = [0, 1, 15, 16, 17, 65_535, 65_536, 65_537, 200_000, 0, 3, 131_072 + 5]
    const inputs = sizes.map((size) => new Uint8Array(randomBytes(size)))
    const reference = createCipheriv("aes-256-cbc", key, iv)
    const expected = Buffer.concat([...inputs.map((input) => reference.update(input)), reference.final()])
    const cipher = createCipheriv("aes-256-cbc", key, iv)
    const target = Buffer.alloc(expected.length)
    let offset = 0
    for (const input of inputs) offset += CipherInto.updateInto(cipher, input, target, offset)
    offset += target.write(cipher.final("latin1"), offset, "latin1")
    assert.strictEqual(offset, expected.length)
    assert.isTrue(target.equals(expected))
    // And back, every byte value included.
    const decipher = createDecipheriv("aes-256-cbc", key, iv)
    const plain = Buffer.alloc(expected.length)
    const n = CipherInto.updateInto(decipher, expected, plain, 0)
    const back = Buffer.concat([plain.subarray(0, n), decipher.final()])
    assert.isTrue(back.equals(Buffer.concat(inputs)))
  })

  it("refuses a target without room rather than cutting the output short", () => {
    const cipher = createCipheriv("aes-256-cbc", key, iv)
    assert.throws(() => CipherInto.updateInto(cipher, new Uint8Array(64), Buffer.alloc(63), 0), /no room/)
    assert.throws(() => CipherInto.updateInto(cipher, new Uint8Array(64), Buffer.alloc(100), 40), /no room/)
  })

  it("encryptOver writes each chunk's ciphertext over it, also after a chunk that left bytes held back", () => {
    // Whole pieces, then chunks that leave 1 to 15 bytes held back, whose next chunk's output
    // starts with the held bytes and runs past its own length.
    const sizes = [65_536 * 3, 16, 200_000 + 7, 65_536 * 2, 9, 1, 131_072, 0, 70_000]
    const inputs = sizes.map((size) => new Uint8Array(randomBytes(size)))
    const reference = createCipheriv("aes-256-cbc", key, iv)
    const expected = Buffer.concat([...inputs.map((input) => reference.update(input)), reference.final()])
    const cipher = createCipheriv("aes-256-cbc", key, iv)
    const outputs: Array<Uint8Array> = []
    for (const input of inputs) {
      const buffer = new ArrayBuffer(input.length + 16)
      new Uint8Array(buffer).set(input)
      const ciphertext = CipherInto.encryptOver(cipher, buffer, input.length)
      assert.strictEqual(ciphertext.buffer, buffer)
      outputs.push(ciphertext)
    }
    assert.isTrue(Buffer.concat([...outputs, cipher.final()]).equals(expected))
  })
})
