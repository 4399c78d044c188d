/**
 * How a `wa-media` run ends: exit 0 on success, 2 on bad usage, 1 when the operation failed, with
 * stderr's last line `<ErrorTag>: <message>` and no stack trace for an expected failure.
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * An argument that is not what the command expects: exit status 2.
 */
export class UsageError extends Schema.TaggedError<UsageError>("effect-wa-media/cli/UsageError")(
  "UsageError",
  { message: Schema.String }
) {}

export interface Outcome {
  readonly code: number
  readonly line?: string
}

const isTagged = (u: unknown): u is { readonly _tag: string; readonly message: string } =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" &&
  "message" in u && typeof u.message === "string"

const usageTags = new Set(["UsageError", "UnknownMediaType", "InvalidMediaKey"])

/** The outcome of a command's exit. */
export const outcome = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return { code: 0 }
  const cause = exit.cause
  if (Cause.isInterruptedOnly(cause)) return { code: 130, line: "Interrupted: stopped by a signal" }
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (isTagged(error)) return { code: usageTags.has(error._tag) ? 2 : 1, line: `${error._tag}: ${error.message}` }
    return { code: 1, line: `Error: ${String(error)}` }
  }
  // A defect is a bug of ours: say so briefly, without a stack trace or any secret.
  const defect = Cause.squash(cause)
  const message = defect instanceof Error ? defect.message : String(defect)
  return { code: 1, line: `Defect: ${message}` }
}
