import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"

// glibc only: its trim threshold is what `retainFreedMemory` raises.
const glibc = process.platform === "linux" &&
  (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime !==
    undefined

const dist = new URL("../dist/", import.meta.url).href

/**
 * How many MiB the process hands back to the kernel when a full collection frees 32 one-MiB buffers
 * (swept at once, on the main thread), in a fresh process after `setup`; the fourth such round
 * counts, once the heap has grown to what a round needs. Memory handed back is memory the next
 * round faults in again, page by page.
 */
const givenBackAfter = (setup: string): number => {
  const script = `
    const round = () => {
      let buffers = Array.from({ length: 32 }, () => Buffer.alloc(1024 * 1024, 1))
      const before = process.memoryUsage.rss()
      buffers = undefined
      globalThis.gc()
      return (before - process.memoryUsage.rss()) / (1024 * 1024)
    }
    ${setup}
    globalThis.gc()
    let givenBack = 0
    for (let i = 0; i < 4; i++) givenBack = round()
    console.log(givenBack)
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
  await Effect.runPromise(Effect.scoped(Effect.flatMap(HashPool.make(${options}), (pool) => pool.openHashes(keys, ${size}, "encrypt"))))
`

// Without it each round's 32 MiB goes back to the kernel; with it they stay for the next round.
describe.skipIf(!glibc)("heapRetention (built package, glibc)", () => {
  it("retainFreedMemory keeps the memory freed by a collection for the next allocations", () => {
    assert.isAbove(givenBackAfter(""), 24)
    assert.isBelow(
      givenBackAfter(
        `const { retainFreedMemory } = await import("${dist}internal/heapRetention.js"); retainFreedMemory()`
      ),
      4
    )
  })

  it("the worker pool retains freed memory from its first large session, unless told not to", () => {
    assert.isBelow(givenBackAfter(openSession("{ workers: 0 }")), 4)
    assert.isAbove(givenBackAfter(openSession("{ workers: 0, retainFreedMemory: false }")), 24)
    // A small blob leaves the process as it was.
    assert.isAbove(givenBackAfter(openSession("{ workers: 0, threshold: 1024 }", "512")), 24)
  })
})
