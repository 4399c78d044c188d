import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { binary } from "./cliHarness.js"

describe("wa-media serve", () => {
  it.effect("prints its base URL, serves a media connection pointing back at itself, stops on SIGINT", () =>
    Effect.gen(function*() {
      const child = spawn(process.execPath, [binary, "serve"], { stdio: ["ignore", "pipe", "pipe"] })
      const baseUrl = yield* Effect.async<string>((resume) => {
        let out = ""
        child.stdout.on("data", (data: Buffer) => {
          out += data.toString()
          if (out.includes("\n")) resume(Effect.succeed(out.trim()))
        })
      })
      assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      const json = yield* Effect.promise(() => fetch(`${baseUrl}/media_conn`).then((r) => r.json() as Promise<any>))
      assert.isString(json.auth)
      assert.strictEqual(json.hosts[0].hostname, baseUrl.slice("http://".length))
      assert.strictEqual(json.hosts[0].type, "primary")
      const code = yield* Effect.async<number | null>((resume) => {
        child.on("exit", (exitCode) => resume(Effect.succeed(exitCode)))
        child.kill("SIGINT")
      })
      assert.notStrictEqual(code, null)
    }))
})
