// Runs the real built `wa-media` bundle (npm test builds it first) and captures what it printed.
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

export const binary = fileURLToPath(new URL("../dist/bin/wa-media.js", import.meta.url))

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  readonly cwd?: string
  /** Another copy of the bundle to run. */
  readonly binary?: string
  /** Options for node itself, before the bundle's path. */
  readonly nodeArgs?: ReadonlyArray<string>
  /** The environment; by default this process's, with `NO_COLOR` set. */
  readonly env?: NodeJS.ProcessEnv
}

/** Runs `command` with `args` and captures its exit status and what it printed. */
export const runCommand = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string | undefined; readonly env?: NodeJS.ProcessEnv | undefined } = {}
): Effect.Effect<CliRun> =>
  Effect.async<CliRun>((resume) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024, env: options.env },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
    return Effect.sync(() => child.kill())
  })

export const runCli = (args: ReadonlyArray<string>, options: CliOptions = {}): Effect.Effect<CliRun> =>
  runCommand(process.execPath, [...(options.nodeArgs ?? []), options.binary ?? binary, ...args], {
    cwd: options.cwd,
    env: options.env ?? { ...process.env, NO_COLOR: "1" }
  })

/** Loaded before the bundle (`--require`): reports every worker_threads worker started, and when it came online. */
export const workerSpy = `
const threads = require("node:worker_threads")
const Original = threads.Worker
threads.Worker = class extends Original {
  constructor(url, options) {
    super(url, options)
    process.stderr.write("worker started: " + String(url) + "\\n")
    this.on("online", () => process.stderr.write("worker online\\n"))
  }
}
require("node:module").syncBuiltinESMExports()
`

/** The last non-empty line of what the command printed to stderr. */
export const lastLine = (text: string): string => text.trimEnd().split("\n").at(-1) ?? ""
