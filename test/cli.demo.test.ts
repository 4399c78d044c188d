import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "./cliHarness.js"

const reportValue = (report: string, label: string): string => {
  const line = report.split("\n").find((l) => l.trimStart().startsWith(label))
  assert.isDefined(line, `report line ${label}`)
  return line!.trimStart().slice(label.length).trim()
}

describe("wa-media demo", () => {
  it.effect("uploads a generated resumable sample, downloads it back through failover and resume, exit 0", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["demo"])
      assert.strictEqual(run.code, 0, run.stderr)
      const report = run.stdout
      assert.match(reportValue(report, "input"), /\(generated sample\), 25,165,824 bytes/)
      // The primary host fails the upload, which moves on to the fallback host.
      assert.match(report, /resume probe: 503; \S+ upload: 503; \S+ resume probe: 200; \S+ upload: 200/)
      // The download's connection drops part-way; it resumes with Range instead of starting over.
      assert.match(report, /download: connection dropped; \S+ download bytes=\d+-: 206/)
      assert.match(report, /2 requests, 1 resumed with Range, 0 restarts/)
      assert.match(reportValue(report, "verified"), /the downloaded file equals the input/)
      assert.strictEqual(Buffer.from(reportValue(report, "fileSha256"), "base64").length, 32)
    }))

  it.effect("sends a given file and reports its SHA-256", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "wa-media-demo-test-"))),
      (dir) =>
        Effect.gen(function*() {
          const content = randomBytes(200_000)
          writeFileSync(join(dir, "photo.jpg"), content)
          const run = yield* runCli(["demo", join(dir, "photo.jpg")])
          assert.strictEqual(run.code, 0, run.stderr)
          assert.strictEqual(
            reportValue(run.stdout, "fileSha256"),
            createHash("sha256").update(content).digest("base64")
          )
          assert.match(reportValue(run.stdout, "input"), /photo\.jpg, 200,000 bytes/)
        }),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    ))

  it.effect("fails a missing file with MediaFileError and exit 1", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["demo", join(tmpdir(), "no-such-file-for-the-demo")])
      assert.strictEqual(run.code, 1)
      assert.match(run.stderr.trimEnd().split("\n").at(-1)!, /^MediaFileError: cannot read/)
    }))
})
