import * as NodeSink from "@effect/platform-node/NodeSink"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream } from "effect"
import { Writable } from "node:stream"
import { drainSafe } from "../src/internal/upload.js"

// A writable that accepts one byte before it asks for `drain`, and completes no write until told:
// what a server slower than the cipher looks like to the body's writer.
const heldWritable = () => {
  const held: Array<() => void> = []
  let accepted = 0
  const writable = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      accepted += chunk.length
      held.push(callback)
    }
  })
  return { writable, accepted: () => accepted, buffered: () => writable.writableLength }
}

const pieces = (count: number) => Array.from({ length: count }, (_, i) => new Uint8Array(1000).fill(i))

describe("the upload body", () => {
  it("keeps every byte in order", () => {
    const chunk = Chunk.make(Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6, 7))
    const out = Chunk.toArray(drainSafe(chunk)).map((piece) => Array.from(piece))
    assert.deepStrictEqual(out, [[1, 2, 3], [4, 5, 6], [7]])
    assert.strictEqual(drainSafe(Chunk.empty()).length, 0)
    assert.deepStrictEqual(Chunk.toArray(drainSafe(Chunk.of(Uint8Array.of(9)))).map((p) => Array.from(p)), [[9]])
  })

  it.effect("waits for drain through NodeSink.fromWritable, so a slow server holds about one chunk", () =>
    Effect.gen(function*() {
      const run = (body: Stream.Stream<Uint8Array>) =>
        Effect.gen(function*() {
          const target = heldWritable()
          const fiber = yield* Effect.fork(Stream.run(body, NodeSink.fromWritable(() => target.writable, String)))
          // Let the writer go as far as it will without a completed write.
          for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
          const before = target.buffered()
          target.writable.destroy()
          yield* Fiber.interrupt(fiber)
          return before
        })
      const chunks = Stream.fromIterable(pieces(50)).pipe(Stream.rechunk(1))
      // Without the tail piece the writer never waits: all 50 pieces pile up in the writable.
      assert.strictEqual(yield* run(chunks), 50_000)
      // With it the writer stops at the first refused write.
      assert.isAtMost(yield* run(Stream.mapChunks(chunks, drainSafe)), 1000)
    }))
})
