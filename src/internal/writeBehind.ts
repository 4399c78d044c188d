/**
 * A bounded write-behind over a `FileSystem.File`, so that the network, the decryption and the
 * disk overlap: bytes are copied into one of two fixed buffers, and a full buffer is written by a
 * background fiber while the other one fills. At most two buffers exist, whatever the file size,
 * and writes reach the file in order.
 *
 * @internal
 */
import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"

/** The size of each of the two buffers. */
export const BUFFER_SIZE = 1024 * 1024

/** @internal */
export interface WriteBehind {
  /** Copies `chunks` in; waits only when both buffers are full (one being written). */
  readonly write: (chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, PlatformError.PlatformError>
  /** Writes whatever is buffered and waits until every byte given so far is in the file. */
  readonly flush: Effect.Effect<void, PlatformError.PlatformError>
  /** Drops what is buffered, waits for the write in flight, and empties the file. */
  readonly reset: Effect.Effect<void, PlatformError.PlatformError>
}

/**
 * Makes a write-behind for `file`, which must be positioned at its end. A write still in flight
 * when the scope closes is waited for (not interrupted), so the file can be closed safely after.
 *
 * @internal
 */
export const make = (
  file: FileSystem.File,
  bufferSize: number = BUFFER_SIZE
): Effect.Effect<WriteBehind, never, Scope.Scope> =>
  Effect.gen(function*() {
    let filling = new Uint8Array(bufferSize)
    // The other buffer: free, or the one the fiber in flight is writing.
    let spare = new Uint8Array(bufferSize)
    let filled = 0
    let inFlight: Fiber.RuntimeFiber<void, PlatformError.PlatformError> | undefined = undefined

    yield* Effect.addFinalizer(() => inFlight === undefined ? Effect.void : Fiber.await(inFlight))

    const settle: Effect.Effect<void, PlatformError.PlatformError> = Effect.suspend(() => {
      const fiber = inFlight
      if (fiber === undefined) return Effect.void
      return Effect.ensuring(
        Fiber.join(fiber),
        Effect.sync(() => {
          inFlight = undefined
        })
      )
    })

    /** Hands the filled part of `filling` to a background write, after the previous one ended. */
    const issue = Effect.zipRight(
      settle,
      Effect.suspend(() => {
        if (filled === 0) return Effect.void
        const full = filling
        const length = filled
        filling = spare
        spare = full
        filled = 0
        return Effect.map(Effect.forkDaemon(file.writeAll(full.subarray(0, length))), (fiber) => {
          inFlight = fiber
        })
      })
    )

    const write = (chunks: ReadonlyArray<Uint8Array>): Effect.Effect<void, PlatformError.PlatformError> =>
      Effect.suspend(() => {
        for (let i = 0; i < chunks.length; i++) {
          const chunk = chunks[i]!
          let offset = 0
          while (offset < chunk.length) {
            const n = Math.min(bufferSize - filled, chunk.length - offset)
            filling.set(chunk.subarray(offset, offset + n), filled)
            filled += n
            offset += n
            if (filled === bufferSize) {
              // Rare (once per buffer): the rest goes on after the buffer is handed over.
              const rest = [chunk.subarray(offset), ...chunks.slice(i + 1)]
              return Effect.zipRight(issue, write(rest))
            }
          }
        }
        return Effect.void
      })

    const flush = Effect.zipRight(issue, settle)

    const reset = Effect.zipRight(
      settle,
      Effect.suspend(() => {
        filled = 0
        return Effect.zipRight(file.truncate(0), file.seek(0, "start"))
      })
    )

    return { write, flush, reset }
  })
