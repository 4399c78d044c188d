// The command line's start-up, next to bare node's on the same machine: the wall time from spawn to
// exit of `wa-media --help` and of a 1 KiB `wa-media encrypt` (the built bundle), median of `runs`
// runs each, the three commands taking turns so that machine noise hits all of them; then the peak
// RSS of each, from separate runs that read it at exit (`VmHWM` on Linux, else getrusage's maxRSS).
//
// Then the command line's jobs on the bench's file: `wa-media encrypt`, `decrypt`, and `upload` to
// and `download` from `wa-media serve` (its own process, a folder store), each with its wall MB/s
// (start-up included) and its peak RSS, next to the ceiling that issue #11 sets for each: 1.2x the
// peak RSS of the leanest TypeScript peer doing the same job, measured beside it on the issue's
// machine (the peers are not installed here).
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { median } from "./runner.mjs"

const binary = fileURLToPath(new URL("../dist/bin/wa-media.js", import.meta.url))
const peakRss = new URL("./peakRss.mjs", import.meta.url).href

/** Runs `node ...args` and resolves to its wall time in ms and what it wrote to stdout and stderr. */
const run = (args) =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (data) => {
      out += data
    })
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (data) => {
      err += data
    })
    child.on("error", reject)
    child.on("close", (code) => {
      const ms = performance.now() - start
      if (code !== 0) return reject(new Error(`node ${args.join(" ")} exited with ${code}: ${err}`))
      resolve({ ms, stdout: out, stderr: err })
    })
  })

/** Runs `node --import peakRss.mjs ...args`: its wall time, stdout, and peak RSS in MiB. */
const runMeasured = async (args) => {
  const result = await run(["--import", peakRss, ...args])
  const match = /wa-media-bench-peak-rss-kib (\d+)/.exec(result.stderr)
  if (match === null) throw new Error(`node ${args.join(" ")}: no peak RSS reported`)
  return { ...result, peakMiB: Number(match[1]) / 1024 }
}

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
      rss[k] = Math.max(rss[k], (await runMeasured(cases[k].args)).peakMiB)
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

/** Starts `wa-media serve --dir` in its own process; resolves with its base URL and a stop function. */
export const startEmulator = () =>
  new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "wa-media-bench-cdn-"))
    const child = spawn(process.execPath, [binary, "serve", "--dir", dir], { stdio: ["ignore", "pipe", "ignore"] })
    const stop = () => {
      child.kill()
      rmSync(dir, { recursive: true, force: true })
    }
    process.on("exit", stop)
    child.on("error", reject)
    child.stdout.setEncoding("utf8")
    let out = ""
    child.stdout.on("data", (data) => {
      out += data
      if (out.includes("\n")) resolve({ baseUrl: out.split("\n")[0].trim(), stop })
    })
  })

/** The hex SHA-256 of a file, read as a stream. */
const sha256Of = (path) =>
  new Promise((resolve, reject) => {
    const hash = createHash("sha256")
    createReadStream(path).on("error", reject).on("data", (data) => hash.update(data)).on("end", () =>
      resolve(hash.digest("hex")))
  })

/**
 * Issue #11's ceiling on each job's peak RSS: 1.2x the leanest peer's. Compared with the peak in MiB,
 * as `VmHWM` / 1024 (and `/usr/bin/time -f %M` / 1024) reads it.
 */
const RSS_CEILING_MIB = { encrypt: 107, decrypt: 127, upload: 151, download: 116 }

const MB = 1e6

/**
 * Runs the four jobs `runs` times each on `plain` in `dir` and prints their rows with `log`: the best
 * wall MB/s and the highest peak RSS of each. Every run's output is checked: the decrypted and
 * downloaded files must hash to `fileSha256`, the plaintext's SHA-256 in hex (the bench's `prepare`
 * computed it).
 */
export const benchJobs = async ({ dir, plain, fileSha256, runs = 3, log = console.log }) => {
  const blob = join(dir, "cli-job.enc")
  const decrypted = join(dir, "cli-job.dec")
  const downloaded = join(dir, "cli-job.dl")
  const message = join(dir, "cli-job.json")
  const bytes = statSync(plain).size
  const best = { encrypt: 0, decrypt: 0, upload: 0, download: 0 }
  const peak = { encrypt: 0, decrypt: 0, upload: 0, download: 0 }
  const record = (job, { ms, peakMiB }) => {
    best[job] = Math.max(best[job], bytes / MB / (ms / 1000))
    peak[job] = Math.max(peak[job], peakMiB)
  }
  const checkOutput = async (job, path) => {
    const got = await sha256Of(path)
    if (got !== fileSha256) throw new Error(`wa-media ${job}: the output does not hash to the plaintext's SHA-256`)
    rmSync(path, { force: true })
  }
  const server = await startEmulator()
  try {
    const mediaConnUrl = `${server.baseUrl}/media_conn`
    for (let i = 0; i < runs; i++) {
      rmSync(blob, { force: true })
      const encrypted = await runMeasured([binary, "encrypt", plain, blob, "--type", "document"])
      record("encrypt", encrypted)
      const keys = JSON.parse(encrypted.stdout.trim().split("\n").pop())
      record(
        "decrypt",
        await runMeasured([
          binary,
          "decrypt",
          blob,
          decrypted,
          "--type",
          "document",
          "--media-key",
          keys.mediaKey,
          "--file-sha256",
          keys.fileSha256,
          "--file-enc-sha256",
          keys.fileEncSha256
        ])
      )
      await checkOutput("decrypt", decrypted)
      const uploaded = await runMeasured([
        binary,
        "upload",
        plain,
        "--type",
        "document",
        "--media-conn-url",
        mediaConnUrl,
        "--cdn-protocol",
        "http"
      ])
      record("upload", uploaded)
      writeFileSync(message, uploaded.stdout.trim().split("\n").pop())
      record(
        "download",
        await runMeasured([
          binary,
          "download",
          "-o",
          downloaded,
          "--type",
          "document",
          "--message",
          message,
          "--media-conn-url",
          mediaConnUrl,
          "--cdn-protocol",
          "http"
        ])
      )
      await checkOutput("download", downloaded)
    }
  } finally {
    server.stop()
    rmSync(blob, { force: true })
  }
  log(
    `\nCLI jobs on the ${
      (bytes / 1024 / 1024).toFixed(0)
    } MiB file: best wall MB/s of ${runs} runs (start-up included), the highest peak RSS in MiB`
  )
  const header = `${"case".padEnd(36)} ${"MB/s".padStart(9)} ${"peak MiB".padStart(9)} ${"ceiling".padStart(9)}`
  log(header)
  log("-".repeat(header.length))
  return Object.keys(best).map((job) => {
    const row = { name: `wa-media ${job}`, mbps: best[job], peakRssMiB: peak[job], ceilingMiB: RSS_CEILING_MIB[job] }
    log(
      `${row.name.padEnd(36)} ${row.mbps.toFixed(0).padStart(9)} ${row.peakRssMiB.toFixed(1).padStart(9)} ${
        String(row.ceilingMiB).padStart(9)
      }`
    )
    return row
  })
}
