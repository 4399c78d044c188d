/**
 * @effect/cli's help documents as text: headings and terms in bold when colours are on, blocks
 * separated by a blank line, a description indented under its term. @effect/cli's own renderer lays
 * the text out through @effect/printer, which took about a third of `wa-media --help`'s start-up
 * for a layout this plain.
 */
import type * as HelpDoc from "@effect/cli/HelpDoc"
import type * as Span from "@effect/cli/HelpDoc/Span"

/** The text of `span`, without its styles. */
export const spanText = (span: Span.Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    default:
      return spanText(span.value)
  }
}

const bold = (text: string, colours: boolean) => colours ? `\u001b[1m${text}\u001b[0m` : text

const indent = (text: string) => text.split("\n").map((line) => line === "" ? line : `  ${line}`).join("\n")

const blocks = (doc: HelpDoc.HelpDoc, colours: boolean): Array<string> => {
  switch (doc._tag) {
    case "Empty":
      return []
    case "Header":
      return [bold(spanText(doc.value), colours)]
    case "Paragraph":
      return [spanText(doc.value)]
    case "DescriptionList":
      return doc.definitions.map(([term, body]) =>
        [bold(spanText(term), colours), ...blocks(body, colours).map(indent)].join("\n\n")
      )
    case "Enumeration":
      return doc.elements.map((element) => `- ${blocks(element, colours).join("\n\n")}`)
    case "Sequence":
      return [...blocks(doc.left, colours), ...blocks(doc.right, colours)]
  }
}

/** `doc` as text, with bold headings and terms when `colours`. */
export const render = (doc: HelpDoc.HelpDoc, colours: boolean): string => blocks(doc, colours).join("\n\n")
