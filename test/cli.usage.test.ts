import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { lastLine, runCli } from "./cliHarness.js"

const commands = ["demo", "encrypt", "decrypt", "upload", "download", "serve"]
const ansi = /\u001b\[/

// Loaded before the bundle: makes stdout and stderr claim to be terminals.
const withTerminal = <A, E>(use: (nodeArgs: ReadonlyArray<string>) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "wa-media-tty-"))
      writeFileSync(join(dir, "tty.cjs"), "process.stdout.isTTY = true\nprocess.stderr.isTTY = true\n")
      return dir
    }),
    (dir) => use(["--require", join(dir, "tty.cjs")]),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const { NO_COLOR: _, ...colourEnv } = process.env

describe("wa-media usage and help", () => {
  it.effect("no arguments: the usage on stderr, exit 2, and a last line naming the commands", () =>
    Effect.gen(function*() {
      const run = yield* runCli([])
      assert.strictEqual(run.code, 2)
      assert.strictEqual(run.stdout, "")
      for (const command of commands) assert.include(run.stderr, `$ wa-media ${command}`)
      assert.strictEqual(lastLine(run.stderr), `UsageError: give a command: ${commands.join(", ")}`)
    }))

  it.effect("help names wa-media in every usage line, on stdout, without @effect/cli's filler text", () =>
    Effect.gen(function*() {
      for (const args of [["--help"], ...commands.map((command) => [command, "--help"])]) {
        const run = yield* runCli(args)
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stderr, "")
        const usages = run.stdout.split("\n").filter((line) => line.startsWith("$ "))
        assert.isAbove(usages.length, 0, args.join(" "))
        for (const line of usages) assert.match(line, /^\$ wa-media /)
        assert.notInclude(run.stdout, "A user-defined piece of text")
        assert.notInclude(run.stdout, "A true or false value")
        assert.notInclude(run.stdout, "An integer.")
        assert.notInclude(run.stdout, "--wizard")
      }
      const encrypt = yield* runCli(["encrypt", "--help"])
      assert.include(encrypt.stdout, "$ wa-media encrypt --type text [--media-key text] [--sidecar] <in> <out>")
      assert.include(encrypt.stdout, "the 32-byte media key; a random one when absent (standard base64)")
    }))

  it.effect("--version prints the package's version", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["--version"])
      assert.strictEqual(run.code, 0, run.stderr)
      const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
      assert.strictEqual(run.stdout.trim(), version)
    }))

  it.effect("each usage error is printed once, as the one line of stderr, with exit 2", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["encrypt"], "UsageError: Expected to find option: '--type'"],
        [["encrypt", "a", "b", "--type", "image", "c"], "UsageError: unknown argument 'c'"],
        [
          ["bogus"],
          "UsageError: Invalid subcommand for wa-media - use one of 'demo', 'encrypt', 'decrypt', 'upload', 'download', 'serve'"
        ],
        [["serve", "--port", "x"], "UsageError: 'x' is not a integer"]
      ]
      for (const [args, line] of cases) {
        const run = yield* runCli(args)
        assert.strictEqual(run.code, 2, args.join(" "))
        assert.strictEqual(run.stdout, "")
        assert.strictEqual(run.stderr, `${line}\n`)
      }
    }))

  it.effect("an unknown --type lists the valid names and the aliases", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["encrypt", "in", "out", "--type", "foto"])
      assert.strictEqual(run.code, 2)
      assert.strictEqual(
        run.stderr,
        "UsageError: unknown media type \"foto\"; valid types: image, video, audio, document, sticker, history, " +
          "app-state, sticker-pack, sticker-pack-thumbnail, link-thumbnail, image-thumbnail, video-thumbnail, " +
          "document-thumbnail, product-catalog-image; aliases: ptt (audio), ptv (video), gif (video)\n"
      )
    }))

  it.effect("colours only on a terminal, and never with NO_COLOR", () =>
    withTerminal((nodeArgs) =>
      Effect.gen(function*() {
        const piped = yield* runCli(["--help"], { env: colourEnv })
        assert.notMatch(piped.stdout, ansi)
        const terminal = yield* runCli(["--help"], { env: colourEnv, nodeArgs })
        assert.match(terminal.stdout, ansi)
        assert.include(terminal.stdout, "\u001b[1mUSAGE\u001b[0m")
        const usage = yield* runCli([], { env: colourEnv, nodeArgs })
        assert.match(usage.stderr, ansi)
        for (const noColor of ["1", "true"]) {
          const off = yield* runCli(["--help"], { env: { ...colourEnv, NO_COLOR: noColor }, nodeArgs })
          assert.strictEqual(off.code, 0)
          assert.notMatch(off.stdout, ansi)
          const offUsage = yield* runCli([], { env: { ...colourEnv, NO_COLOR: noColor }, nodeArgs })
          assert.notMatch(offUsage.stderr, ansi)
        }
      })
    ))
})
