import { assert, describe, it } from "@effect/vitest"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

// ARCHITECTURE.md's rule, checked: a public module imports its implementation from src/internal/ as
// a value and the implementation imports the public module only as a type, so the modules that
// load at run time form no cycle.
const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src")

const sources = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : []
  })

// `import type …` and `export type … from` load nothing; every other import or re-export does.
const statement = /^(import|export)\s+(type\s+)?(?:[^;"']*?\sfrom\s+)?["']([^"']+)["']/gm

const valueImports = (file: string): Array<string> => {
  const text = readFileSync(file, "utf8")
  const found: Array<string> = []
  for (const match of text.matchAll(statement)) {
    const [, , typeOnly, specifier] = match
    if (typeOnly !== undefined || !specifier!.startsWith(".")) continue
    // Sources import each other by their built names: `./x.js` is `x.ts` unless it is JavaScript.
    const target = resolve(dirname(file), specifier!)
    const typescript = target.replace(/\.js$/, ".ts")
    found.push(existsSync(typescript) ? typescript : target)
  }
  return found
}

const cycleIn = (graph: Map<string, Array<string>>): Array<string> | undefined => {
  const state = new Map<string, "visiting" | "done">()
  const path: Array<string> = []
  const visit = (node: string): Array<string> | undefined => {
    if (state.get(node) === "done") return undefined
    if (state.get(node) === "visiting") return [...path.slice(path.indexOf(node)), node]
    state.set(node, "visiting")
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next)
      if (cycle !== undefined) return cycle
    }
    path.pop()
    state.set(node, "done")
    return undefined
  }
  for (const node of graph.keys()) {
    const cycle = visit(node)
    if (cycle !== undefined) return cycle
  }
  return undefined
}

describe("the module structure", () => {
  it("the run-time imports of src/ form no cycle (internal code imports its face only as a type)", () => {
    const graph = new Map(sources(src).map((file) => [file, valueImports(file)]))
    const cycle = cycleIn(graph)
    assert.isUndefined(cycle, cycle?.map((file) => relative(src, file)).join(" -> "))
  })

  it("the check sees a cycle when there is one", () => {
    const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]])
    assert.deepStrictEqual(cycleIn(graph), ["a", "b", "c", "a"])
    assert.isUndefined(cycleIn(new Map([["a", ["b"]], ["b", []]])))
  })

  it("reads value imports and skips type-only ones", () => {
    const importsOf = (file: string) => valueImports(join(src, file)).map((target) => relative(src, target))
    assert.include(importsOf("MediaDownload.ts"), "internal/downloadService.ts")
    assert.notInclude(importsOf("internal/downloadService.ts"), "MediaDownload.ts")
    assert.include(importsOf("internal/hashing.ts"), "internal/mediaHashes.js")
  })
})
