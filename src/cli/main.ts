/**
 * The `wa-media` command line: @effect/cli parses the arguments; this module prints help and usage
 * as users expect them (named `wa-media`, without the parser's filler text, coloured only on a
 * terminal and never with `NO_COLOR`), prints each usage error once, runs the command, and turns its
 * exit into a status and the last stderr line.
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Usage from "@effect/cli/Usage"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { outcome, UsageError } from "./CliExit.js"
import { commands, root, summary } from "./Commands.js"
import * as HelpText from "./HelpText.js"

const NAME = "wa-media"
// The bundler puts package.json's version here (scripts/build-bin.mjs); the bin is only run bundled.
declare const __WA_MEDIA_VERSION__: string | undefined
const VERSION = typeof __WA_MEDIA_VERSION__ === "string" ? __WA_MEDIA_VERSION__ : "0.0.0-source"

// The built-in options (--completions, --log-level, --wizard) stay out of the help: only --help and
// --version are answered.
const config = CliConfig.make({ showBuiltIns: false })

/** Whether to colour what goes to `stream`: a terminal, and no `NO_COLOR` (https://no-color.org). */
const colours = (stream: NodeJS.WriteStream): boolean => stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

const render = (doc: HelpDoc.HelpDoc, stream: NodeJS.WriteStream): string => HelpText.render(doc, colours(stream))

// What @effect/cli says of every option of a kind before its own description: it says nothing.
const filler = new Set(["A user-defined piece of text.", "A true or false value.", "An integer."])

const withoutFiller = (doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc => {
  switch (doc._tag) {
    case "Sequence":
      return HelpDoc.sequence(withoutFiller(doc.left), withoutFiller(doc.right))
    case "Paragraph":
      return filler.has(HelpText.spanText(doc.value)) ? HelpDoc.empty : doc
    case "DescriptionList":
      return HelpDoc.mapDescriptionList(doc, (span, body) => [span, withoutFiller(body)])
    default:
      return doc
  }
}

/** The usage lines of `usage`, each as `$ wa-media …`. */
const usageLines = (usage: Usage.Usage): Array<HelpDoc.HelpDoc> =>
  Usage.enumerate(usage, config).map((span) =>
    HelpDoc.p(Span.concat(Span.text(HelpText.spanText(span).startsWith(NAME) ? "$ " : `$ ${NAME} `), span))
  )

/** The help of `wa-media` itself: every command's usage and summary. */
const rootHelp = () =>
  HelpDoc.blocks([
    HelpDoc.p(`${NAME} ${VERSION}: ${summary}`),
    HelpDoc.h1("USAGE"),
    ...commands.flatMap(({ summary, usage }) => [
      ...usageLines(usage()),
      HelpDoc.p(`    ${summary}`)
    ]),
    HelpDoc.p(`Run "${NAME} <command> --help" for what a command's arguments and options mean.`)
  ])

/** The help of one command. */
const commandHelp = (usage: Usage.Usage, doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    HelpDoc.p(`${NAME} ${VERSION}`),
    HelpDoc.h1("USAGE"),
    ...usageLines(usage),
    withoutFiller(doc)
  ])

const isRoot = (usage: Usage.Usage) =>
  Usage.enumerate(usage, config).every((span) => HelpText.spanText(span).startsWith(NAME))

const helpOf = (usage: Usage.Usage, doc: HelpDoc.HelpDoc) => isRoot(usage) ? rootHelp() : commandHelp(usage, doc)

/** A parse error as the one line that reports it. */
const usageError = (error: ValidationError.ValidationError): UsageError => {
  const text = "error" in error ? HelpText.render(error.error, false) : ""
  const line = text.split("\n").map((part) => part.trim()).find((part) => part.length > 0)
  return new UsageError({ message: line ?? "invalid arguments" })
}

const run = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const directive = yield* Descriptor.parse(root.descriptor, [NAME, ...argv], config).pipe(
      Effect.mapError(usageError)
    )
    if (directive._tag === "BuiltIn") {
      const option = directive.option
      switch (option._tag) {
        case "ShowHelp":
          return yield* Console.log(render(helpOf(option.usage, option.helpDoc), process.stdout))
        case "ShowVersion":
          return yield* Console.log(VERSION)
        default:
          return yield* new UsageError({ message: `${NAME} does not support this option` })
      }
    }
    const [unknown] = directive.leftover
    if (unknown !== undefined) return yield* new UsageError({ message: `unknown argument '${unknown}'` })
    return yield* root.transform(root.handler(directive.value), directive.value).pipe(
      // A command named without what it needs to run (only `wa-media` itself): its usage, on stderr.
      Effect.catchIf(
        (error) => ValidationError.isValidationError(error) && ValidationError.isHelpRequested(error),
        () =>
          Effect.zipRight(
            Console.error(render(rootHelp(), process.stderr)),
            new UsageError({
              message: `give a command: ${commands.map(({ name }) => name).join(", ")}`
            })
          )
      )
    )
  })

const layer = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

/**
 * Runs the command line on `argv` (without the node and script paths) and returns the exit status,
 * having printed the `<ErrorTag>: <message>` line for a failure.
 */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number> =>
  Effect.suspend(() => run(argv)).pipe(
    Effect.provide(layer),
    Effect.exit,
    Effect.flatMap((exit) => {
      const { code, line } = outcome(exit)
      return line === undefined ? Effect.succeed(code) : Effect.as(Console.error(line), code)
    })
  )
