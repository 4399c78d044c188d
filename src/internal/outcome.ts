/**
 * The `outcome` attribute every span of the library ends with, so that a trace says how an operation
 * or an attempt ended without reading its exit: `ok`, `interrupted`, or `failed` with the error's
 * tag and reason (`error.type`, `error.reason`). Tags and reasons are fixed words, never a secret.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

const reasonOf = (error: unknown): string | undefined => {
  const reason = typeof error === "object" && error !== null
    ? (error as { readonly reason?: unknown }).reason
    : undefined
  return typeof reason === "string" ? reason : undefined
}

const tagOf = (error: unknown): string => {
  const tag = typeof error === "object" && error !== null ? (error as { readonly _tag?: unknown })._tag : undefined
  return typeof tag === "string" ? tag : "Error"
}

/** The attributes of a failure: `outcome`, `error.type` and, when it has one, `error.reason`. */
export const failureAttributes = (error: unknown, outcome = "failed"): Record<string, unknown> => {
  const reason = reasonOf(error)
  return { outcome, "error.type": tagOf(error), ...(reason === undefined ? {} : { "error.reason": reason }) }
}

/** Annotates the current span with how `self` ended; `onFailure` gives the attributes of a failure. */
export const annotateOutcome = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  onFailure: (error: E) => Record<string, unknown>
): Effect.Effect<A, E, R> =>
  self.pipe(
    Effect.tap(() => Effect.annotateCurrentSpan("outcome", "ok")),
    Effect.tapError((error) => Effect.annotateCurrentSpan(onFailure(error))),
    Effect.onInterrupt(() => Effect.annotateCurrentSpan("outcome", "interrupted"))
  )

/** Annotates the current span with how `self` ended (usable as an `Effect.fn` pipeable). */
export const withOutcome = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  annotateOutcome(self, failureAttributes)
