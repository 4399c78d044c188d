/**
 * Turns: at most `n` holders at once; the next ones wait, and each freed turn goes to the one that
 * has waited longest.
 *
 * `Effect.Semaphore` would bound them too, but each release there wakes every waiting fiber, and
 * all but one go back to waiting. With the bench's burst of 200 downloads waiting for 16 turns,
 * that was about 37,000 wake-ups per burst: a fifth more CPU, and 50 MB more heap at the peak,
 * than the same bound kept by the caller.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** Waits for a turn, held until the scope closes. */
export type Turn = Effect.Effect<void, never, Scope.Scope>

/**
 * How many transfers of a service run at once unless its layer says otherwise. Measured on the
 * bench's burst of 200 downloads of 4 MiB: 8, 16 and 32 at once within noise of each other, and all
 * 200 at once a quarter slower; 200 uploads of 4 MiB at once grew the RSS by 567 MB, 16 at a time
 * by 151.
 */
export const DEFAULT_CONCURRENCY = 16

/** One holder's place: whether it holds a turn, and how to wake it while it waits for one. */
interface Ticket {
  held: boolean
  wake: ((effect: Effect.Effect<void>) => void) | undefined
}

/** A set of `n` turns (at least 1). */
export const make = (n: number): Turn => {
  let free = Math.max(1, Math.floor(n))
  // In the order they came: a `Set` iterates in insertion order and deletes in constant time.
  const waiting = new Set<Ticket>()

  const release = (ticket: Ticket): void => {
    if (!ticket.held) return
    ticket.held = false
    for (const next of waiting) {
      waiting.delete(next)
      next.held = true
      next.wake!(Effect.void)
      return
    }
    free++
  }

  const take = (ticket: Ticket): Effect.Effect<void> =>
    Effect.async<void>((wake) => {
      if (free > 0) {
        free--
        ticket.held = true
        wake(Effect.void)
        return
      }
      ticket.wake = wake
      waiting.add(ticket)
      // Interrupted while waiting: it leaves the line. A turn handed to it in the meantime is
      // `held`, and its release passes it on.
      return Effect.sync(() => {
        waiting.delete(ticket)
      })
    })

  // The release is in the scope before the wait starts, so a turn is given back exactly once
  // however the holder ends, interrupted while waiting included.
  return Effect.suspend(() => {
    const ticket: Ticket = { held: false, wake: undefined }
    return Effect.zipRight(Effect.addFinalizer(() => Effect.sync(() => release(ticket))), take(ticket))
  })
}

/**
 * Below this many bytes a transfer is small (a sticker, a voice note, most photos, any thumbnail).
 * Small transfers have turns of their own, so that one never waits behind large ones that may run
 * for minutes. Their bound still pays: measured on bursts of 200 downloads from a loopback server,
 * 16 at a time against all at once, 5% less CPU per download of 16 KiB, 9% of 64 KiB, 15% of 256
 * KiB, 25–30% of 1 MiB.
 */
export const SMALL_TRANSFER = 1024 * 1024

/** A service's turns: a transfer of `size` bytes (`undefined` when unknown) waits for one of its lane. */
export type Lanes = (size: number | undefined) => Turn

/**
 * The turns of a service that runs at most `concurrency` small transfers and `concurrency` others at
 * once (`DEFAULT_CONCURRENCY` when unset), or none to wait for when it is `"unbounded"`. A
 * transfer of unknown size counts as large.
 */
export const ofConcurrency = (concurrency: number | "unbounded" | undefined): Lanes => {
  if (concurrency === "unbounded" || concurrency === Number.POSITIVE_INFINITY) return () => Effect.void
  const n = concurrency === undefined || Number.isNaN(concurrency) ? DEFAULT_CONCURRENCY : concurrency
  const small = make(n)
  const large = make(n)
  return (size) => size !== undefined && size < SMALL_TRANSFER ? small : large
}
