// `npm test`: build, type-check, lint and run every test, then print one summary line.
// The build comes first because the command-line tests run the real built bundle.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const run = (label, command, args) => {
  process.stdout.write(`\n> ${label}\n`)
  const result = spawnSync(command, args, { stdio: "inherit" })
  return result.status === 0
}

const checks = [
  ["build", "npm", ["run", "build"]],
  ["type-check", "npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]],
  ["lint", "npx", ["eslint", "."]]
]

let passed = 0
let failed = 0
let skipped = 0
for (const [label, command, args] of checks) {
  if (run(label, command, args)) passed++
  else failed++
}

const reportDir = mkdtempSync(join(tmpdir(), "wa-media-test-"))
const reportFile = join(reportDir, "vitest.json")
const extra = process.argv.slice(2)
run("vitest", "npx", [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${reportFile}`,
  ...extra
])
try {
  const report = JSON.parse(readFileSync(reportFile, "utf8"))
  passed += report.numPassedTests
  failed += report.numFailedTests
  skipped += report.numPendingTests + report.numTodoTests
  // A file that failed to load has no tests to count: count the file itself.
  for (const file of report.testResults) {
    if (file.status === "failed" && file.assertionResults.length === 0) failed++
  }
} catch {
  process.stdout.write("vitest produced no report\n")
  failed++
}
rmSync(reportDir, { recursive: true, force: true })

process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
