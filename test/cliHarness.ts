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

export const runCli = (args: ReadonlyArray<string>, options: CliOptions = {}): Effect.Effect<CliRun> =>
  Effect.async<CliRun>((resume) => {
    const child = execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), options.binary ?? binary, ...args],
      { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024, env: options.env ?? { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
    return Effect.sync(() => child.kill())
  })

/** The last non-empty line of what the command printed to stderr. */
export const lastLine = (text: string): string => text.trimEnd().split("\n").at(-1) ?? ""
