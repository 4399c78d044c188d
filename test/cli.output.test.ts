import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { lastLine, runCli } from "./cliHarness.js"

const withDir = <A, E>(use: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "wa-media-out-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const key = Buffer.alloc(32, 1).toString("base64")
const hash = Buffer.alloc(32, 2).toString("base64")

describe("wa-media output paths are checked before any work", () => {
  it.effect("encrypt and decrypt refuse a folder, a pipe and a missing folder at once, before reading the input", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        // The input is a named pipe nobody writes to: reading it would block for ever, so an answer
        // at all proves the output was refused before the input was opened.
        const pipe = join(dir, "pipe")
        const outPipe = join(dir, "out-pipe")
        execFileSync("mkfifo", [pipe, outPipe])
        mkdirSync(join(dir, "folder"))
        const cases: ReadonlyArray<readonly [string, string]> = [
          [join(dir, "folder"), `MediaFileError: cannot write ${join(dir, "folder")}: it is a directory`],
          [outPipe, `MediaFileError: cannot write ${outPipe}: it is not a regular file`],
          [join(dir, "missing", "out"), `MediaFileError: cannot write ${join(dir, "missing", "out")}: ENOENT`]
        ]
        for (const [output, line] of cases) {
          for (
            const args of [
              ["encrypt", pipe, output, "--type", "image"],
              ["decrypt", pipe, output, "--type", "image", "--media-key", key]
            ]
          ) {
            const run = yield* runCli(args)
            assert.strictEqual(run.code, 1, args.join(" "))
            assert.strictEqual(run.stdout, "")
            assert.isTrue(lastLine(run.stderr).startsWith(line), run.stderr)
          }
        }
        assert.deepStrictEqual(readdirSync(dir).sort(), ["folder", "out-pipe", "pipe"])
        assert.deepStrictEqual(readdirSync(join(dir, "folder")), [])
      })
    ))

  it.effect("download refuses a folder before asking any host (none listens at the one given)", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        mkdirSync(join(dir, "folder"))
        const args = [
          "download",
          "-o",
          join(dir, "folder"),
          "--type",
          "image",
          "--direct-path",
          "/v/t62.7118-24/1",
          "--media-key",
          key,
          "--file-enc-sha256",
          hash,
          "--host",
          "127.0.0.1:1",
          "--cdn-protocol",
          "http"
        ]
        const refused = yield* runCli(args)
        assert.strictEqual(refused.code, 1)
        assert.strictEqual(
          lastLine(refused.stderr),
          `MediaFileError: cannot write ${join(dir, "folder")}: it is a directory`
        )
        // The same download to a writable path does reach for the host, and fails there.
        const tried = yield* runCli(args.map((arg) => arg === join(dir, "folder") ? join(dir, "out") : arg))
        assert.strictEqual(tried.code, 1)
        assert.match(lastLine(tried.stderr), /^MediaDownloadError: .*127\.0\.0\.1:1/)
        assert.deepStrictEqual(readdirSync(dir), ["folder"])
      })
    ))
})
