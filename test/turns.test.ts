import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import * as Turns from "../src/internal/turns.js"

/** Runs an effect in a turn of `n`. */
const turns = (n: number) => {
  const turn = Turns.make(n)
  return <A, E>(effect: Effect.Effect<A, E>) => Effect.scoped(Effect.zipRight(turn, effect))
}

const settle = Effect.repeatN(Effect.yieldNow(), 50)

/** An effect that notes when it starts and ends, and runs until its gate opens. */
const gated = (started: Array<number>, running: { now: number; most: number }, i: number) =>
  Effect.flatMap(Deferred.make<void>(), (gate) =>
    Effect.sync(() => ({
      gate,
      effect: Effect.suspend(() => {
        started.push(i)
        running.now++
        running.most = Math.max(running.most, running.now)
        return Deferred.await(gate)
      }).pipe(Effect.ensuring(Effect.sync(() => running.now--)))
    })))

describe("Turns", () => {
  it.effect("runs at most n at once; a freed turn goes to the one that waited longest", () =>
    Effect.gen(function*() {
      const inTurn = turns(2)
      const started: Array<number> = []
      const running = { now: 0, most: 0 }
      const tasks = yield* Effect.forEach([0, 1, 2, 3, 4], (i) => gated(started, running, i))
      const fibers = yield* Effect.forEach(tasks, ({ effect }) => Effect.fork(inTurn(effect)))
      yield* settle
      assert.deepStrictEqual(started, [0, 1])
      yield* Deferred.succeed(tasks[1]!.gate, undefined)
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2])
      yield* Deferred.succeed(tasks[0]!.gate, undefined)
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2, 3])
      for (const { gate } of tasks) yield* Deferred.succeed(gate, undefined)
      yield* Effect.forEach(fibers, Fiber.join)
      assert.deepStrictEqual(started, [0, 1, 2, 3, 4])
      assert.strictEqual(running.most, 2)
    }))

  it.effect("gives a turn back however the effect ends, and one interrupted while waiting takes none", () =>
    Effect.gen(function*() {
      const inTurn = turns(1)
      assert.isTrue(Exit.isFailure(yield* Effect.exit(inTurn(Effect.fail("failed")))))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(inTurn(Effect.die("died")))))
      const started: Array<number> = []
      const running = { now: 0, most: 0 }
      const [holder, waiter, next] = yield* Effect.forEach([0, 1, 2], (i) => gated(started, running, i))
      const holding = yield* Effect.fork(inTurn(holder!.effect))
      const waiting = yield* Effect.fork(inTurn(waiter!.effect))
      const after = yield* Effect.fork(inTurn(next!.effect))
      yield* settle
      yield* Fiber.interrupt(waiting)
      yield* settle
      assert.deepStrictEqual(started, [0], "the holder still holds the only turn")
      yield* Deferred.succeed(holder!.gate, undefined)
      yield* settle
      assert.deepStrictEqual(started, [0, 2], "the interrupted one never ran")
      // Interrupted while it runs, the next one gets its turn.
      yield* Fiber.interrupt(after)
      yield* Fiber.join(holding)
      assert.strictEqual(yield* inTurn(Effect.succeed("free again")), "free again")
    }))

  it.effect("never runs more than n nor loses a turn under interruptions at any point", () =>
    Effect.gen(function*() {
      const n = 3
      const inTurn = turns(n)
      const started: Array<number> = []
      const running = { now: 0, most: 0 }
      const tasks = yield* Effect.forEach(Array.from({ length: 60 }, (_, i) => i), (i) => gated(started, running, i))
      const fibers = yield* Effect.forEach(tasks, ({ effect }) => Effect.fork(inTurn(effect)))
      // A fixed pseudo-random walk: open some gates, interrupt others, waiting or running.
      let seed = 7
      const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
      const pending = tasks.map((_, i) => i)
      while (pending.length > 0) {
        const [i] = pending.splice(Math.floor(next() * pending.length), 1)
        if (next() < 0.4) yield* Fiber.interruptFork(fibers[i!]!)
        else yield* Deferred.succeed(tasks[i!]!.gate, undefined)
        if (next() < 0.5) yield* settle
      }
      yield* Effect.forEach(fibers, Fiber.await)
      assert.isAtMost(running.most, n)
      // Every turn is free again, and no more: of n + 1 effects, n run at once.
      const last = yield* Effect.forEach([100, 101, 102, 103], (i) => gated(started, running, i))
      const lastFibers = yield* Effect.forEach(last, ({ effect }) => Effect.fork(inTurn(effect)))
      yield* settle
      assert.strictEqual(running.now, n)
      for (const { gate } of last) yield* Deferred.succeed(gate, undefined)
      yield* Effect.forEach(lastFibers, Fiber.join)
    }))

  it.effect("small transfers have turns of their own; one of unknown size counts as large", () =>
    Effect.gen(function*() {
      const lanes = Turns.ofConcurrency(1)
      const inLane = (size: number | undefined) => <A, E>(effect: Effect.Effect<A, E>) =>
        Effect.scoped(Effect.zipRight(lanes(size), effect))
      const started: Array<number> = []
      const running = { now: 0, most: 0 }
      const sizes = [Turns.SMALL_TRANSFER, undefined, 0, Turns.SMALL_TRANSFER - 1]
      const tasks = yield* Effect.forEach(sizes, (_, i) => gated(started, running, i))
      const fibers = yield* Effect.forEach(tasks, ({ effect }, i) => Effect.fork(inLane(sizes[i])(effect)))
      yield* settle
      assert.deepStrictEqual(started, [0, 2], "a large and a small one at once; the others wait in their lanes")
      yield* Deferred.succeed(tasks[2]!.gate, undefined)
      yield* settle
      assert.deepStrictEqual(started, [0, 2, 3], "the small lane moves while the large one is held")
      yield* Deferred.succeed(tasks[0]!.gate, undefined)
      yield* settle
      assert.deepStrictEqual(started, [0, 2, 3, 1])
      for (const { gate } of tasks) yield* Deferred.succeed(gate, undefined)
      yield* Effect.forEach(fibers, Fiber.join)
    }))
})
