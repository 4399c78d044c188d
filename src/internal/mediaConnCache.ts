/**
 * The `MediaConn` service over a source: the latest fetch cached until `min(ttl, auth_ttl)` after it
 * started, shared by concurrent callers, never cached when it failed.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type { MediaConn, MediaConnInfo, MediaConnReply } from "../MediaConn.js"
import type { MediaConnError } from "../MediaError.js"
import * as Model from "./mediaConnModel.js"

const stamp = (reply: MediaConnReply, fetchedAt: number): Either.Either<MediaConnInfo, MediaConnError> => {
  // A custom source may hand over hosts the parsers would have skipped.
  const hosts = reply.hosts.filter((host) => Model.isUsableHostname(host.hostname))
  return Model.requireHosts({ ...reply, hosts, fetchedAt })
}

type Fetch = Fiber.RuntimeFiber<MediaConnInfo, MediaConnError>

export const make = <R>(
  source: Effect.Effect<MediaConnReply, MediaConnError, R>
): Effect.Effect<MediaConn["Type"], never, R | Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const scope = yield* Effect.scope
    // The latest fetch as a fiber of the service's scope: callers join it, so concurrent callers
    // share one fetch, an interrupted caller only stops its own wait, and closing the scope stops
    // the fetch. Effect's `Cache` does not fit: its lookup runs in the first caller's fiber (that
    // caller's interruption interrupts every waiter) and its TTL counts from the end of the fetch.
    const latest = yield* SynchronizedRef.make(Option.none<Fetch>())

    const fetch = Effect.flatMap(Clock.currentTimeMillis, (fetchedAt) =>
      source.pipe(
        Effect.flatMap((reply) => stamp(reply, fetchedAt)),
        Effect.mapInputContext((caller: Context.Context<never>) => Context.merge(caller, context))
      ))

    /** The outcome of a finished fetch that succeeded and has not expired; a failure never is. */
    const fresh = (current: Fetch, now: number): Exit.Exit<MediaConnInfo, MediaConnError> | undefined => {
      const exit = current.unsafePoll()
      return exit !== null && Exit.isSuccess(exit) && now < Model.expiresAt(exit.value) ? exit : undefined
    }

    // A fetch in flight is always shared (it is as fresh as it gets); a finished one only while it
    // is fresh, and not for a refresh.
    const reusable = (current: Fetch, force: boolean, now: number): boolean =>
      current.unsafePoll() === null || (!force && fresh(current, now) !== undefined)

    const obtain = (force: boolean): Effect.Effect<MediaConnInfo, MediaConnError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(SynchronizedRef.get(latest), (seen) => {
          // A finished fetch that is still fresh is read without the lock, which only starting a
          // fetch needs (so that concurrent callers share one): the lock and the join cost every
          // transfer about 18 µs in a microbenchmark.
          const done = force || Option.isNone(seen) ? undefined : fresh(seen.value, now)
          if (done !== undefined) return done
          return SynchronizedRef.modifyEffect(latest, (current) =>
            Option.isSome(current) && reusable(current.value, force, now)
              ? Effect.succeed([current.value, current] as const)
              : Effect.map(Effect.forkIn(fetch, scope), (started) => [started, Option.some(started)] as const)).pipe(
              Effect.flatMap(Fiber.join)
            )
        }))

    return {
      // The spans' stacks would only name this module; capturing one cost every transfer about 7 µs.
      get: obtain(false).pipe(Effect.withSpan("MediaConn.get", { captureStackTrace: false })),
      // A fetch in flight is kept: it is already fresh.
      invalidate: SynchronizedRef.update(
        latest,
        Option.filter((current) => current.unsafePoll() === null)
      ),
      refresh: obtain(true).pipe(Effect.withSpan("MediaConn.refresh", { captureStackTrace: false }))
    }
  })
