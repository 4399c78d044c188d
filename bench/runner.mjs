// The shared bench runner. A case is `{ name, group, sides: { library, baseline } }` where each side is
// `async (ctx) => run` and `run` is `async () => ({ bytes, check? })`: the outer call is setup (untimed,
// e.g. reading the input into memory), the inner one the timed work. Every run of every side happens
// in its own child process, so its peak RSS (`process.resourceUsage().maxRSS`) belongs to that side
// alone; the sides alternate (library, baseline, library, ...) so machine noise hits both. Besides the
// peak RSS of the whole child, each run reports the growth of its RSS during the timed work alone
// (from the RSS at its start to the peak during it; Linux only, elsewhere "-").
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

const MB = 1e6

/**
 * This process's peak RSS in KiB. On Linux `VmHWM`: `maxRSS` (getrusage) carries over the peak of
 * the forked parent across exec, so every child would report at least the runner's own RSS.
 */
const peakRssKiB = () => {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))
    if (match !== null) return Number(match[1])
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS
}

/**
 * Resets this process's peak RSS to its current RSS (Linux: `5` into `/proc/self/clear_refs`), so
 * that the peak read later is the peak since now; false where that is not possible.
 */
const resetPeakRss = () => {
  try {
    writeFileSync("/proc/self/clear_refs", "5")
    return true
  } catch {
    return false
  }
}

/** Runs one side of one case in this (child) process and prints its result as one JSON line. */
export const runChild = async (cases, caseName, side, ctx) => {
  const found = cases.find((c) => c.name === caseName)
  if (found === undefined) throw new Error(`unknown case ${caseName}`)
  const run = await found.sides[side](ctx)
  globalThis.gc?.()
  const setupPeakKiB = peakRssKiB()
  const reset = resetPeakRss()
  const startRssKiB = process.memoryUsage.rss() / 1024
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const { bytes, check } = await run()
  const ms = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  const cpuMs = (cpu.user + cpu.system) / 1000
  const runPeakKiB = peakRssKiB()
  const maxRssKiB = Math.max(setupPeakKiB, runPeakKiB)
  // The growth of the RSS during the timed run alone (from its start to its peak), where the peak
  // could be reset; otherwise unknown.
  const growthKiB = reset ? Math.max(0, runPeakKiB - startRssKiB) : undefined
  process.stdout.write(`${JSON.stringify({ ms, cpuMs, bytes, check, maxRssKiB, growthKiB })}\n`)
}

const spawnChild = (script, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", fileURLToPath(script), ...args], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (data) => {
      out += data
    })
    child.on("error", reject)
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`child ${args.join(" ")} exited with ${code}`))
      const line = out.trim().split("\n").pop()
      resolve(JSON.parse(line))
    })
  })

/** The median of `xs`. */
export const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const pad = (s, n) => String(s).padStart(n)
const padEnd = (s, n) => String(s).padEnd(n)

/**
 * Runs every case `runs` times per side, alternating sides, each run in a fresh child of `script`
 * (which must call {@link runChild} when given `--child <case> <side>`), checks that both sides
 * produced the same `check` value, and prints one table row per case.
 */
export const runAll = async ({ script, cases, runs, childArgs, afterRun, log = console.log }) => {
  // The case column fits the longest name.
  const width = Math.max(36, ...cases.map((c) => c.name.length))
  const header = `${padEnd("case", width)} ${pad("library", 9)} ${pad("baseline", 9)} ${pad("ratio", 6)} ${
    pad("cpu", 6)
  } ${pad("lib RSS", 8)} ${pad("base RSS", 8)} ${pad("lib grow", 8)} ${pad("base grow", 9)}`
  log(header)
  log(
    `${padEnd("", width)} ${pad("MB/s", 9)} ${pad("MB/s", 9)} ${pad("", 6)} ${pad("ratio", 6)} ${pad("peak MB", 8)} ${
      pad("peak MB", 8)
    } ${pad("MB", 8)} ${pad("MB", 9)}`
  )
  log("-".repeat(header.length))
  const rows = []
  for (const c of cases) {
    const results = { library: [], baseline: [] }
    for (let i = 0; i < runs; i++) {
      // Alternate which side goes first too, so neither always runs on a warmer (or busier) machine.
      const order = i % 2 === 0 ? ["library", "baseline"] : ["baseline", "library"]
      for (const side of order) {
        results[side].push(await spawnChild(script, ["--child", c.name, side, ...childArgs]))
        await afterRun?.()
      }
    }
    const checks = new Set([...results.library, ...results.baseline].map((r) => r.check))
    if (checks.size > 1) throw new Error(`${c.name}: library and baseline disagree: ${[...checks].join(" ")}`)
    const speed = (r) => r.bytes / MB / (r.ms / 1000)
    const best = (side) => Math.max(...results[side].map(speed))
    const cpu = (side) => Math.min(...results[side].map((r) => r.cpuMs))
    const rss = (side) => Math.max(...results[side].map((r) => r.maxRssKiB)) * 1024 / MB
    const growth = (side) =>
      results[side].every((r) => r.growthKiB !== undefined)
        ? Math.max(...results[side].map((r) => r.growthKiB)) * 1024 / MB
        : undefined
    const row = {
      name: c.name,
      library: best("library"),
      baseline: best("baseline"),
      libraryMedian: median(results.library.map(speed)),
      baselineMedian: median(results.baseline.map(speed)),
      libraryRss: rss("library"),
      baselineRss: rss("baseline"),
      libraryGrowth: growth("library"),
      baselineGrowth: growth("baseline")
    }
    row.ratio = row.library / row.baseline
    // CPU time of the library over the baseline's (least of each): less sensitive to machine noise.
    row.cpuRatio = cpu("library") / cpu("baseline")
    rows.push(row)
    log(
      `${padEnd(c.name, width)} ${pad(row.library.toFixed(0), 9)} ${pad(row.baseline.toFixed(0), 9)} ${
        pad(row.ratio.toFixed(2), 6)
      } ${pad(row.cpuRatio.toFixed(2), 6)} ${pad(row.libraryRss.toFixed(0), 8)} ${pad(row.baselineRss.toFixed(0), 8)} ${
        pad(row.libraryGrowth?.toFixed(0) ?? "-", 8)
      } ${pad(row.baselineGrowth?.toFixed(0) ?? "-", 9)}`
    )
  }
  return rows
}
