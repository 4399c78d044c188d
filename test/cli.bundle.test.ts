import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { binary, runCli, workerSpy } from "./cliHarness.js"

// A copy of dist/bin in a folder with no node_modules above it: whatever the bundle needs must be in it.
const withCopy = <A, E>(use: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "wa-media-bundle-"))
      for (const file of ["wa-media.js", "hashWorker.js"]) copyFileSync(join(binary, "..", file), join(dir, file))
      return dir
    }),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("the bundled wa-media", () => {
  it.effect("runs alone, without any node_modules: help, and an encrypt with hashes on the worker beside it", () =>
    withCopy((dir) =>
      Effect.gen(function*() {
        const bundle = join(dir, "wa-media.js")
        const help = yield* runCli(["--help"], { binary: bundle, cwd: dir })
        assert.strictEqual(help.code, 0, help.stderr)
        assert.include(help.stdout, "$ wa-media encrypt")

        // Above the pool's 8 MiB threshold, so the hashes run on a worker.
        const plaintext = randomBytes(9 * 1024 * 1024)
        writeFileSync(join(dir, "in"), plaintext)
        writeFileSync(join(dir, "spy.cjs"), workerSpy)
        const run = yield* runCli(["encrypt", join(dir, "in"), join(dir, "blob"), "--type", "document"], {
          binary: bundle,
          cwd: dir,
          nodeArgs: ["--require", join(dir, "spy.cjs")]
        })
        assert.strictEqual(run.code, 0, run.stderr)
        assert.include(run.stderr, `worker started: ${pathToFileURL(join(dir, "hashWorker.js")).href}\n`)
        assert.include(run.stderr, "worker online\n")
        const json = JSON.parse(run.stdout)
        assert.strictEqual(json.fileSha256, createHash("sha256").update(plaintext).digest("base64"))
        assert.strictEqual(
          json.fileEncSha256,
          createHash("sha256").update(readFileSync(join(dir, "blob"))).digest("base64")
        )
      })
    ))
})
