// Docs that cannot drift: every ```ts block of the README and every `@example` in src/ is
// type-checked against the package's exports, as a user's file importing "effect-wa-media" would be.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("..", import.meta.url))

interface Block {
  /** Where the block is, for the test name: `README.md:120`, `src/MediaConn.ts:88`. */
  readonly where: string
  readonly code: string
}

const fence = /^```(ts|typescript)\s*$/

// Fenced ```ts blocks of a Markdown file.
const markdownBlocks = (file: string): Array<Block> => {
  const lines = readFileSync(join(root, file), "utf8").split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    if (!fence.test(lines[i]!)) continue
    const start = i + 1
    const body: Array<string> = []
    for (i = start; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!)
    blocks.push({ where: `${file}:${start}`, code: body.join("\n") })
  }
  return blocks
}

// ```ts blocks under `@example` in the JSDoc comments of a source file, without the ` * ` margin.
const exampleBlocks = (file: string): Array<Block> => {
  const lines = readFileSync(join(root, file), "utf8").split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\* @example\s*$/.test(lines[i]!)) continue
    const open = lines[i + 1]?.replace(/^\s*\* ?/, "")
    if (open === undefined || !fence.test(open)) continue
    const start = i + 2
    const body: Array<string> = []
    for (i = start; i < lines.length; i++) {
      const line = lines[i]!.replace(/^\s*\*( |$)/, "")
      if (line === "```") break
      body.push(line)
    }
    blocks.push({ where: `${file}:${start}`, code: body.join("\n") })
  }
  return blocks
}

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith(".ts") ? [path] : []
  })

const readme = markdownBlocks("README.md")
const examples = sourceFiles("src").flatMap(exampleBlocks)
const blocks = [...readme, ...examples]

// Each block becomes a module of its own in memory, beside the tests, so "effect-wa-media" resolves
// through tsconfig.json's paths to the sources and everything else through node_modules.
const virtualName = (block: Block) => join(root, "test", "docs", `${block.where.replace(/[/.:]/g, "_")}.ts`)

const check = (): ReadonlyMap<string, ReadonlyArray<string>> => {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
    }
  })
  if (config === undefined) throw new Error("tsconfig.json could not be read")
  // An example may name a value only to show it: unused names are not errors here.
  const options = { ...config.options, noUnusedLocals: false, noUnusedParameters: false, noEmit: true }
  const files = new Map(blocks.map((block) => [virtualName(block), `${block.code}\nexport {}\n`]))
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language, onError) => {
    const text = files.get(name)
    return text === undefined ? getSourceFile(name, language, onError) : ts.createSourceFile(name, text, language)
  }
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => files.has(name) || fileExists(name)
  const readFile = host.readFile.bind(host)
  host.readFile = (name) => files.get(name) ?? readFile(name)
  const program = ts.createProgram([...files.keys()], options, host)
  const format = (diagnostic: ts.Diagnostic): string => {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")
    if (diagnostic.file === undefined || diagnostic.start === undefined) return text
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
    const where = files.has(diagnostic.file.fileName) ? `line ${line + 1}` : relative(root, diagnostic.file.fileName)
    return `${where}: ${text}`
  }
  return new Map(blocks.map((block) => {
    const file = program.getSourceFile(virtualName(block))!
    const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]
    return [block.where, diagnostics.map(format)]
  }))
}

let checked: ReadonlyMap<string, ReadonlyArray<string>> | undefined
const errorsOf = (block: Block) => (checked ??= check()).get(block.where) ?? []

describe("docs", () => {
  it.effect("finds the README's code blocks and the examples of src/", () =>
    Effect.sync(() => {
      assert.isAtLeast(readme.length, 6)
      assert.isAtLeast(examples.length, 20)
    }))

  for (const block of blocks) {
    it.effect(`${block.where} type-checks`, () =>
      Effect.sync(() => {
        assert.deepStrictEqual(errorsOf(block), [], `${block.where}:\n${block.code}`)
      }))
  }

  it.effect("every README block with tests runs as it is written there, from a test/readme*.test.ts", () =>
    Effect.sync(() => {
      const runners = readdirSync(join(root, "test"))
        .filter((name) => /^readme.*\.test\.ts$/.test(name))
        .map((name) => readFileSync(join(root, "test", name), "utf8"))
      const withTests = readme.filter((block) => block.code.includes("it.effect("))
      assert.isAtLeast(withTests.length, 2)
      for (const block of withTests) {
        assert.isTrue(runners.some((runner) => runner.includes(block.code)), `${block.where} is not run verbatim`)
      }
    }))
})
