// The command line's start-up, next to bare node's on the same machine: the wall time from spawn to
// exit of `wa-media --help` and of a 1 KiB `wa-media encrypt` (the built bundle), median of `runs`
// runs each, the three commands taking turns so that machine noise hits all of them; then the peak
// RSS of each, from separate runs that read it at exit (`VmHWM` on Linux, else getrusage's maxRSS).
import { spawn } from "node:child_process"
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { median } from "./runner.mjs"

const binary = fileURLToPath(new URL("../dist/bin/wa-media.js", import.meta.url))
const peakRss = new URL("./peakRss.mjs", import.meta.url).href

/** Runs `node ...args` and resolves to its wall time in ms and what it wrote to stderr. */
const run = (args) =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (data) => {
      err += data
    })
    child.on("error", reject)
    child.on("close", (code) => {
      const ms = performance.now() - start
      if (code !== 0) return reject(new Error(`node ${args.join(" ")} exited with ${code}: ${err}`))
      resolve({ ms, stderr: err })
    })
  })

/** Measures the start-up cases in `dir` and prints their rows with `log`. */
export const benchStartup = async ({ dir, runs = 5, log = console.log }) => {
  const input = join(dir, "cli-1k.bin")
  const output = join(dir, "cli-1k.blob")
  writeFileSync(input, Buffer.alloc(1024, 7))
  const cases = [
    { name: "node -e 0 (bare node)", args: ["-e", "0"] },
    { name: "wa-media --help", args: [binary, "--help"] },
    { name: "wa-media encrypt 1 KiB", args: [binary, "encrypt", input, output, "--type", "document"] }
  ]
  const times = cases.map(() => [])
  const rss = cases.map(() => 0)
  // One warm-up round (disk cache), not counted.
  for (const c of cases) await run(c.args)
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < cases.length; k++) {
      const index = (i + k) % cases.length
      times[index].push((await run(cases[index].args)).ms)
      rmSync(output, { force: true })
    }
  }
  for (let k = 0; k < cases.length; k++) {
    for (let i = 0; i < runs; i++) {
      const { stderr } = await run(["--import", peakRss, ...cases[k].args])
      const match = /wa-media-bench-peak-rss-kib (\d+)/.exec(stderr)
      if (match === null) throw new Error(`${cases[k].name}: no peak RSS reported`)
      rss[k] = Math.max(rss[k], Number(match[1]) / 1024)
      rmSync(output, { force: true })
    }
  }
  const bare = median(times[0])
  log(`\nCLI start-up: wall ms from spawn to exit, median of ${runs} runs; peak RSS the highest of ${runs}`)
  const header = `${"case".padEnd(36)} ${"ms".padStart(9)} ${"x bare".padStart(9)} ${"peak MB".padStart(9)}`
  log(header)
  log("-".repeat(header.length))
  const rows = cases.map((c, k) => {
    const ms = median(times[k])
    const row = { name: c.name, ms, ratio: ms / bare, peakRssMiB: rss[k] }
    log(
      `${c.name.padEnd(36)} ${ms.toFixed(0).padStart(9)} ${row.ratio.toFixed(2).padStart(9)} ${
        rss[k].toFixed(0).padStart(9)
      }`
    )
    return row
  })
  return rows
}
