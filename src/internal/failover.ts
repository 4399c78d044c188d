/**
 * The failover policy downloads and uploads share (docs/protocol.md sections 6 and 7): try the
 * candidates (CDN hosts) in order; a failure says what comes next: the next host, the same host once
 * more (a broken body that can resume), a single credential refresh that starts again from the first
 * host, or nothing (fatal). Every try is recorded so the final error can list them all.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { MediaConnError } from "../MediaError.js"
import type { Attempt } from "../MediaError.js"
import { annotateOutcome, failureAttributes } from "./outcome.js"

/**
 * What the policy does after a failed try.
 * - `next-host`: 5xx, 429, transport errors, stalls, integrity failures.
 * - `same-host`: progress was made and can be kept (a body that broke part-way); the same host gets
 *   one more try before the policy moves on.
 * - `refresh`: the credentials or the URLs are stale (401, 403, and for downloads 404, 410).
 * - `fatal`: nothing another host could fix.
 */
export type Next = "next-host" | "same-host" | "refresh" | "fatal"

/** One failed try at one candidate. */
export class HostFailure extends Data.TaggedError("HostFailure")<{
  readonly host: string
  readonly status?: number | undefined
  readonly reason: string
  readonly next: Next
  /** The typed error behind the failure, when there is one (an integrity error, say). */
  readonly cause?: unknown
}> {}

/** The policy gave up: why, the last failure, and every attempt in order. */
export class Exhausted extends Data.TaggedError("Exhausted")<{
  readonly reason: "refresh-used" | "all-hosts" | "fatal" | "no-hosts"
  readonly last: HostFailure | undefined
  readonly attempts: ReadonlyArray<Attempt>
}> {}

/** What one operation tries: where, and how one try goes. */
export interface Plan<C, A, E, R> {
  /** The candidates in order; `fresh` after the credential refresh (the URLs are rebuilt from new hosts). */
  readonly candidates: (fresh: boolean) => Effect.Effect<ReadonlyArray<C>, E | MediaConnError, R>
  /** How a candidate appears in the attempt list (a host name, never a credential). */
  readonly label: (candidate: C) => string
  /** The name of each try's span (`MediaDownload.attempt`, `MediaUpload.attempt`). */
  readonly span: string
  readonly attempt: (candidate: C) => Effect.Effect<A, HostFailure | E, R>
  /** Runs between the failed try and the refresh, e.g. to invalidate the cached media connection. */
  readonly beforeRefresh?: Effect.Effect<void, never, R>
  /**
   * The user's policy between tries of the host failover, fed with each failed try's attempt: its
   * delays space the tries (backoff for 429/5xx, say), and when it ends the failover ends. The
   * host list bounds the failover whatever it says.
   */
  readonly retry?: RetryPolicy | undefined
}

/**
 * A user's policy for spacing (and limiting) the tries of a transfer: a `Schedule` fed with each
 * failed try as an `Attempt` (host, status, reason). Default: the next try at once.
 */
export type RetryPolicy = Schedule.Schedule<unknown, Attempt>

const toAttempt = (failure: HostFailure): Attempt =>
  failure.status === undefined
    ? { host: failure.host, reason: failure.reason }
    : { host: failure.host, status: failure.status, reason: failure.reason }

/** A failed try's span attributes: what comes next as its outcome, the status and the reason. */
const failureSpanAttributes = (failure: HostFailure): Record<string, unknown> => ({
  outcome: failure.next,
  "cdn.reason": failure.reason,
  ...(failure.status === undefined ? {} : { "http.response.status_code": failure.status })
})

const isHostFailure = (u: unknown): u is HostFailure =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "HostFailure"

// A predicate, not a refinement: a HostFailure that is not a refresh must stay in the error type.
const isRefresh = (u: unknown): boolean => isHostFailure(u) && u.next === "refresh"

/**
 * Runs a plan: each candidate in turn, at most one credential refresh for the whole operation.
 */
export const run = <C, A, E, R>(
  plan: Plan<C, A, E, R>
): Effect.Effect<A, Exhausted | E | MediaConnError, R> =>
  Effect.suspend(() => {
    const attempts: Array<Attempt> = []
    const record = (failure: HostFailure) => Effect.sync(() => attempts.push(toAttempt(failure)))

    const overCandidates = (candidates: ReadonlyArray<C>): Effect.Effect<A, HostFailure | E | Exhausted, R> => {
      if (candidates.length === 0) {
        return Effect.fail(new Exhausted({ reason: "no-hosts", last: undefined, attempts }))
      }
      let cursor = 0
      let retriedSameHost = false
      const advance = (failure: HostFailure) =>
        Effect.sync(() => {
          if (failure.next === "same-host" && !retriedSameHost) {
            retriedSameHost = true
          } else {
            cursor++
            retriedSameHost = false
          }
        })
      // Each try in its span: the host, the attempt number, and how it ended (the failure's `next`).
      const tryCurrent = Effect.suspend(() => {
        const candidate = candidates[cursor]!
        return annotateOutcome(
          plan.attempt(candidate),
          (error) => isHostFailure(error) ? failureSpanAttributes(error) : failureAttributes(error)
        ).pipe(
          Effect.withSpan(plan.span, {
            attributes: { "cdn.host": plan.label(candidate), "cdn.attempt": attempts.length + 1 },
            // Its stack would only name this module; capturing it cost every try about 7 µs.
            captureStackTrace: false
          })
        )
      }).pipe(
        Effect.tapError((error) => isHostFailure(error) ? Effect.zipRight(record(error), advance(error)) : Effect.void)
      )
      // Host failover: the next candidate (or the same one once more), while there is one, for
      // failures another try may not have; spaced and bounded by the user's policy too.
      const failover = Schedule.recurWhile((error: HostFailure | E) =>
        isHostFailure(error) && (error.next === "next-host" || error.next === "same-host") &&
        cursor < candidates.length
      ).pipe(
        Schedule.intersect(Schedule.mapInput(
          plan.retry ?? Schedule.forever,
          // Only host failures go on; the other input is never retried, whatever the policy says.
          (error: HostFailure | E): Attempt => isHostFailure(error) ? toAttempt(error) : { host: "", reason: "fatal" }
        ))
      )
      return tryCurrent.pipe(
        Effect.retry(failover),
        // On the operation's span: where it ended, after how many tries.
        Effect.tap(() =>
          Effect.annotateCurrentSpan({
            "cdn.host": plan.label(candidates[cursor]!),
            "cdn.attempts": attempts.length + 1
          })
        )
      )
    }

    const giveUp = (reason: Exhausted["reason"]) => (failure: unknown) =>
      Effect.fail(new Exhausted({ reason, last: failure as HostFailure, attempts }))

    // The single credential refresh: one more round, from the first of the new candidates.
    let refreshed = false
    const refreshOnce = Schedule.recurs(1).pipe(
      Schedule.whileInput(isRefresh),
      Schedule.tapInput((error) =>
        !isRefresh(error) || refreshed
          ? Effect.void
          : Effect.zipRight(plan.beforeRefresh ?? Effect.void, Effect.sync(() => refreshed = true))
      )
    )
    const round = Effect.suspend(() => plan.candidates(refreshed)).pipe(Effect.flatMap(overCandidates))

    return round.pipe(
      Effect.retry(refreshOnce),
      Effect.catchIf(isHostFailure, (failure) =>
        giveUp(failure.next === "refresh" ? "refresh-used" : failure.next === "fatal" ? "fatal" : "all-hosts")(failure))
    )
  })
