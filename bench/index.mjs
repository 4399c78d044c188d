// `npm run bench`: the library next to a plain node:crypto baseline doing the same work, in the same
// run. Each case runs `--runs` times per side (alternating sides), each run in its own child process
// for an attributable peak RSS; the table shows the best MB/s of each side, their ratio (library /
// baseline), the ratio of their CPU time (least of each; steadier than MB/s on a busy machine) and
// the highest peak RSS.
//
//   node --expose-gc bench/index.mjs [--size-mib 256] [--runs 3] [--cases file,stream]
//
// `--cases` keeps the cases whose name contains one of the comma-separated words (e.g.
// `--size-mib 1024 --cases file` for the 1 GiB file-to-file check). After the table, the command
// line's start-up next to bare node's, then its four jobs on the bench's file with their peak RSS
// (cli.mjs; `--cases cli` for both sections alone, `cli-startup` or `cli-jobs` for one). To add a case, append
// `{ name, sides: { library, baseline } }` to the list below (see runner.mjs for the contract).
import { randomBytes, randomFillSync } from "node:crypto"
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as Baseline from "./baseline.mjs"
import { benchJobs, benchStartup } from "./cli.mjs"
import * as Crypto from "./crypto.mjs"
import { runAll, runChild } from "./runner.mjs"

// The download and upload cases load Effect and the library when imported: a child running a crypto
// case skips them, so that its peak RSS holds only what that side loads.
const loadAllCases = async () => {
  const [Download, Upload] = await Promise.all([import("./download.mjs"), import("./upload.mjs")])
  return [...Crypto.cases, ...Download.cases, ...Upload.cases]
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    "size-mib": { type: "string", default: "256" },
    runs: { type: "string", default: "3" },
    cases: { type: "string" },
    child: { type: "string" },
    dir: { type: "string" }
  }
})

const sizeMiB = Number(values["size-mib"])
const runs = Number(values.runs)
if (!(sizeMiB > 0) || !Number.isInteger(runs) || runs < 1) {
  throw new Error("usage: bench/index.mjs [--size-mib N] [--runs N] [--cases word,word]")
}

/**
 * Writes `sizeMiB` MiB of random plaintext, its blob, and the values the children check against;
 * returns those values.
 */
const prepare = async (dir) => {
  const files = Crypto.paths(dir)
  const block = Buffer.alloc(1024 * 1024)
  const fd = openSync(files.plain, "w")
  let remaining = Math.round(sizeMiB * 1024 * 1024)
  while (remaining > 0) {
    const n = Math.min(remaining, block.length)
    randomFillSync(block, 0, n)
    writeSync(fd, block, 0, n)
    remaining -= n
  }
  closeSync(fd)
  const mediaKey = randomBytes(32)
  const { fileEncSha256, fileSha256 } = await Baseline.encryptFile(
    Baseline.deriveKeys(mediaKey, Crypto.HKDF_INFO),
    files.plain,
    files.blob
  )
  const meta = { mediaKey: mediaKey.toString("hex"), fileSha256, fileEncSha256, fileLength: sizeMiB * 1024 * 1024 }
  writeFileSync(files.meta, JSON.stringify(meta))
  return meta
}

if (values.child !== undefined) {
  const dir = values.dir
  const meta = JSON.parse(readFileSync(Crypto.paths(dir).meta, "utf8"))
  const cases = Crypto.cases.some((c) => c.name === values.child) ? Crypto.cases : await loadAllCases()
  await runChild(cases, values.child, positionals[0], { dir, meta, sizeMiB })
} else {
  const allCases = await loadAllCases()
  const words = values.cases?.split(",").filter((w) => w.length > 0)
  const cases = words === undefined ? allCases : allCases.filter((c) => words.some((w) => c.name.includes(w)))
  const dir = mkdtempSync(join(tmpdir(), "wa-media-bench-"))
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  process.on("SIGINT", () => {
    cleanup()
    process.exit(130)
  })
  try {
    console.log(
      `effect-wa-media bench: ${sizeMiB} MiB, best of ${runs} per side, node ${process.version}, ${cpus().length} cores`
    )
    const section = (name) => words === undefined || words.some((w) => name.includes(w))
    const jobs = section("cli-jobs")
    const meta = cases.length > 0 || jobs ? await prepare(dir) : undefined
    if (cases.length > 0) {
      await runAll({
        script: import.meta.url,
        cases,
        runs,
        childArgs: ["--dir", dir, "--size-mib", String(sizeMiB)],
        afterRun: () => rmSync(Crypto.paths(dir).out, { force: true })
      })
    }
    if (section("cli-startup")) await benchStartup({ dir })
    if (jobs) await benchJobs({ dir, plain: Crypto.paths(dir).plain, fileSha256: meta.fileSha256, runs })
  } finally {
    cleanup()
  }
}
