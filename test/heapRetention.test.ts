import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"

// glibc only: its trim threshold is what `retainFreedMemory` raises, and Linux counts the faults.
const glibc = process.platform === "linux" &&
  (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime !==
    undefined

const dist = new URL("../dist/", import.meta.url).href

/**
 * The minor page faults of four rounds of 32 one-MiB buffers, each round freed by a full
 * collection (at once: array buffers swept on the main thread), in a fresh process after `setup`.
 * Two rounds run first, so the heap has grown to what a round needs.
 */
const faultsAfter = (setup: string): number => {
  const script = `
    import { readFileSync } from "node:fs"
    const faults = () => Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[7])
    const round = () => {
      let buffers = Array.from({ length: 32 }, () => Buffer.alloc(1024 * 1024, 1))
      buffers = undefined
      globalThis.gc()
    }
    ${setup}
    globalThis.gc()
    round()
    round()
    const before = faults()
    for (let i = 0; i < 4; i++) round()
    console.log(faults() - before)
  `
  const child = spawnSync(
    process.execPath,
    ["--expose-gc", "--no-concurrent-array-buffer-sweeping", "--input-type=module", "-e", script],
    { encoding: "utf8" }
  )
  assert.strictEqual(child.stderr, "")
  return Number(child.stdout.trim())
}

/** Opens one hash session for `size` bytes (source text; "undefined": unknown, so large) on a pool with `options`. */
const openSession = (options: string, size = "undefined") => `
  const { Effect, Redacted } = await import("effect")
  const HashPool = await import("${dist}internal/hashPool.js")
  const keys = { macKey: Redacted.make(new Uint8Array(32)), iv: new Uint8Array(16) }
  await Effect.runPromise(Effect.scoped(Effect.flatMap(HashPool.make(${options}), (open) => open(keys, ${size}, "encrypt"))))
`

// Without it each round's 32 MiB goes back to the kernel and is faulted in again (about 8,000
// faults a round); with it they stay (a handful).
describe.skipIf(!glibc)("heapRetention (built package, glibc)", () => {
  it("retainFreedMemory keeps the memory freed by a collection for the next allocations", () => {
    assert.isAbove(faultsAfter(""), 16_000)
    assert.isBelow(
      faultsAfter(
        `const { retainFreedMemory } = await import("${dist}internal/heapRetention.js"); retainFreedMemory()`
      ),
      2_000
    )
  })

  it("the worker pool retains freed memory from its first large session, unless told not to", () => {
    assert.isBelow(faultsAfter(openSession("{ workers: 0 }")), 2_000)
    assert.isAbove(faultsAfter(openSession("{ workers: 0, retainFreedMemory: false }")), 16_000)
    // A small blob leaves the process as it was.
    assert.isAbove(faultsAfter(openSession("{ workers: 0, threshold: 1024 }", "512")), 16_000)
  })
})
