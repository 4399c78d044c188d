// Preloaded (`node --import`) by the CLI start-up bench: prints this process's peak RSS at exit.
// On Linux `VmHWM`, since getrusage's maxRSS carries over the peak of the parent that forked it.
import { readFileSync } from "node:fs"

process.on("exit", () => {
  let kib = process.resourceUsage().maxRSS
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))
    if (match !== null) kib = Number(match[1])
  } catch {
    // Not Linux: getrusage it is.
  }
  process.stderr.write(`wa-media-bench-peak-rss-kib ${kib}\n`)
})
