// The package as users get it: `npm pack`, then the README's install line in a fresh project (the
// tarball in place of the registry's effect-wa-media), then `npx wa-media` and the library there.
// The npm cache that `npm ci` filled serves the peers (`--prefer-offline`).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runCommand, workerSpy } from "./cliHarness.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const npm = process.platform === "win32" ? "npm.cmd" : "npm"
const npx = process.platform === "win32" ? "npx.cmd" : "npx"

// Without the npm_* variables of the `npm test` running this: a nested npm would take them as its
// own configuration (the prefix among them) and act on this repository instead of the project.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")))

/** The README's install line, as its words. */
const installLine = (): ReadonlyArray<string> => {
  const line = readFileSync(join(root, "README.md"), "utf8").split("\n").find((l) =>
    l.startsWith("npm install effect-wa-media")
  )
  if (line === undefined) throw new Error("README.md has no `npm install effect-wa-media …` line")
  return line.trim().split(/\s+/).slice(2)
}

const withDir = <A, E>(use: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "wa-media-pack-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("the packed package", () => {
  it.effect(
    "installs with the README's line and runs npx wa-media with nothing else installed",
    () =>
      withDir((dir) =>
        Effect.gen(function*() {
          // npm test has built dist already; the scripts would only build it again.
          const pack = yield* runCommand(npm, ["pack", "--ignore-scripts", "--pack-destination", dir], {
            cwd: root,
            env
          })
          assert.strictEqual(pack.code, 0, pack.stderr)
          const tarball = join(dir, pack.stdout.trim().split("\n").at(-1)!)

          const app = join(dir, "app")
          mkdirSync(app)
          writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }))
          const words = installLine()
          assert.deepStrictEqual(words, [
            "effect-wa-media",
            "effect@^3.22",
            "@effect/platform@^0.97",
            "@effect/platform-node@^0.108"
          ])
          const install = yield* runCommand(
            npm,
            [
              "install",
              "--prefer-offline",
              "--no-audit",
              "--no-fund",
              ...words.map((word) => word === "effect-wa-media" ? tarball : word)
            ],
            { cwd: app, env }
          )
          assert.strictEqual(install.code, 0, install.stderr)
          const installed = JSON.parse(readFileSync(join(app, "package.json"), "utf8"))
          assert.hasAllKeys(installed.dependencies, [
            "effect-wa-media",
            "effect",
            "@effect/platform",
            "@effect/platform-node"
          ])

          const help = yield* runCommand(npx, ["wa-media", "--help"], { cwd: app, env: { ...env, NO_COLOR: "1" } })
          assert.strictEqual(help.code, 0, help.stderr)
          assert.include(help.stdout, "$ wa-media encrypt")

          // Above the pool's threshold: the hashes run on the worker shipped beside the bundle.
          const plaintext = randomBytes(9 * 1024 * 1024)
          writeFileSync(join(app, "in"), plaintext)
          writeFileSync(join(app, "spy.cjs"), workerSpy)
          const encrypt = yield* runCommand(npx, ["wa-media", "encrypt", "in", "blob", "--type", "video"], {
            cwd: app,
            env: { ...env, NODE_OPTIONS: `--require ${join(app, "spy.cjs")}` }
          })
          assert.strictEqual(encrypt.code, 0, encrypt.stderr)
          assert.include(encrypt.stderr, "/node_modules/effect-wa-media/dist/bin/hashWorker.js\n")
          assert.include(encrypt.stderr, "worker online\n")
          assert.strictEqual(
            JSON.parse(encrypt.stdout).fileSha256,
            createHash("sha256").update(plaintext).digest("base64")
          )

          // The library itself: plain ESM modules on the installed peers.
          const library = yield* runCommand(
            process.execPath,
            [
              "--input-type=module",
              "-e",
              "import { MediaType } from \"effect-wa-media\"; import * as Keys from \"effect-wa-media/MediaKeys\"; console.log(MediaType.info(\"image\").hkdfInfo, typeof Keys.fromBytes)"
            ],
            { cwd: app, env }
          )
          assert.strictEqual(library.code, 0, library.stderr)
          assert.strictEqual(library.stdout, "WhatsApp Image Keys function\n")
        })
      ),
    { timeout: 240_000 }
  )
})
