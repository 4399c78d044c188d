import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Failover from "../src/internal/failover.js"

type Script = Record<string, ReadonlyArray<Failover.Next | "ok">>

/** A plan over named hosts whose tries follow a script, recording the order of tries. */
const scripted = (hosts: ReadonlyArray<string>, freshHosts: ReadonlyArray<string>, script: Script) => {
  const tries: Array<string> = []
  const refreshes: Array<boolean> = []
  const seen = new Map<string, number>()
  const plan: Failover.Plan<string, string, never, never> = {
    candidates: (fresh) => Effect.sync(() => (refreshes.push(fresh), fresh ? freshHosts : hosts)),
    label: (host) => host,
    span: "Test.attempt",
    attempt: (host) =>
      Effect.suspend(() => {
        tries.push(host)
        const n = seen.get(host) ?? 0
        seen.set(host, n + 1)
        const step = script[host]?.[n] ?? "next-host"
        return step === "ok"
          ? Effect.succeed(host)
          : Effect.fail(new Failover.HostFailure({ host, status: 500, reason: step, next: step }))
      })
  }
  return { plan, tries, refreshes }
}

describe("failover", () => {
  it.effect("moves to the next host and succeeds there", () =>
    Effect.gen(function*() {
      const { plan, tries } = scripted(["a", "b", "c"], [], { a: ["next-host"], b: ["ok"] })
      assert.strictEqual(yield* Failover.run(plan), "b")
      assert.deepStrictEqual(tries, ["a", "b"])
    }))

  it.effect("lists every attempt when all hosts fail", () =>
    Effect.gen(function*() {
      const { plan, tries } = scripted(["a", "b"], [], {})
      const error = yield* Effect.flip(Failover.run(plan))
      assert.strictEqual(error._tag, "Exhausted")
      if (error._tag !== "Exhausted") return
      assert.strictEqual(error.reason, "all-hosts")
      assert.deepStrictEqual(error.attempts.map((a) => a.host), ["a", "b"])
      assert.deepStrictEqual(tries, ["a", "b"])
    }))

  it.effect("refreshes once and starts again from the first fresh host", () =>
    Effect.gen(function*() {
      const { plan, refreshes, tries } = scripted(["a", "b"], ["x", "y"], {
        a: ["refresh"],
        x: ["next-host"],
        y: ["ok"]
      })
      assert.strictEqual(yield* Failover.run(plan), "y")
      assert.deepStrictEqual(refreshes, [false, true])
      assert.deepStrictEqual(tries, ["a", "x", "y"])
    }))

  it.effect("fails on a second refresh without trying more hosts", () =>
    Effect.gen(function*() {
      const { plan, tries } = scripted(["a", "b"], ["x", "y"], { a: ["refresh"], x: ["refresh"], y: ["ok"] })
      const error = yield* Effect.flip(Failover.run(plan))
      assert.strictEqual(error._tag === "Exhausted" && error.reason, "refresh-used")
      assert.deepStrictEqual(tries, ["a", "x"])
    }))

  it.effect("gives the same host one more try, then moves on", () =>
    Effect.gen(function*() {
      const { plan, tries } = scripted(["a", "b"], [], { a: ["same-host", "same-host"], b: ["same-host", "ok"] })
      assert.strictEqual(yield* Failover.run(plan), "b")
      assert.deepStrictEqual(tries, ["a", "a", "b", "b"])
    }))

  it.effect("stops at a fatal failure", () =>
    Effect.gen(function*() {
      const { plan, tries } = scripted(["a", "b"], [], { a: ["fatal"], b: ["ok"] })
      const error = yield* Effect.flip(Failover.run(plan))
      assert.strictEqual(error._tag === "Exhausted" && error.reason, "fatal")
      assert.deepStrictEqual(tries, ["a"])
    }))

  it.effect("fails with no-hosts when there is nothing to try", () =>
    Effect.gen(function*() {
      const { plan } = scripted([], [], {})
      const error = yield* Effect.flip(Failover.run(plan))
      assert.strictEqual(error._tag === "Exhausted" && error.reason, "no-hosts")
    }))
})
