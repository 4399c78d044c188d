/**
 * A transfer's deadline, counted from the call: what runs before the engine (the wait for a turn,
 * an upload's first pass) runs under it, and the engine, which keeps its own deadline to name the
 * attempts in its error, gets what is left.
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/** A deadline that started; without one, `bound` changes nothing and `left` is `undefined`. */
export interface Deadline<E> {
  /** `effect`, failing with the deadline's error once the deadline passes. */
  readonly bound: <A, E2, R>(effect: Effect.Effect<A, E2, R>) => Effect.Effect<A, E | E2, R>
  /** What is left of it now. */
  readonly left: () => Duration.Duration | undefined
}

/** Starts `deadline` now; `passed` is the error of an effect it bounds when it passes. */
export const start = <E>(
  clock: Clock.Clock,
  deadline: Duration.DurationInput | undefined,
  passed: () => E
): Deadline<E> => {
  if (deadline === undefined) return { bound: (effect) => effect, left: () => undefined }
  const limit = Duration.toMillis(Duration.decode(deadline))
  const started = clock.unsafeCurrentTimeMillis()
  const left = () => Duration.millis(Math.max(0, limit - (clock.unsafeCurrentTimeMillis() - started)))
  return {
    bound: (effect) => Effect.suspend(() => Effect.timeoutFail(effect, { duration: left(), onTimeout: passed })),
    left
  }
}
