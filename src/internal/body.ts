/**
 * One download attempt's body: read, decrypted and handed to the output, under one stall
 * watchdog. An output takes the plaintext in one of two ways:
 *
 * - `write`: the download's fiber reads the body and writes each chunk's plaintext (files,
 *   writables, bytes);
 * - `read`: the body goes to the output's reader (`stream`, and so `toSink`) as a stream of
 *   plaintext that its pulls read and decrypt. The reader is another fiber, and this way no
 *   plaintext waits between the two: measured on the bench's burst of 200 downloads, handing
 *   batches from the download's fiber to the reader's through a queue kept them alive long enough
 *   for the collector to promote them, and cost a quarter of the throughput.
 *
 * @internal
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as Chunk from "effect/Chunk"
import type * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { Blocker } from "./blocks.js"

/** A response body that failed or stalled part-way. */
export class BodyBreak extends Data.TaggedError("BodyBreak")<{
  readonly cause: HttpClientError.ResponseError | "stall"
}> {}

/** One attempt's body as plaintext, for an output's reader (`Output.read`). */
export type Plaintext = Stream.Stream<Uint8Array, BodyBreak>

/**
 * Where plaintext goes. `write` may hand over unverified bytes; `reset` rewinds the output to empty
 * and says whether it could (an output whose bytes already left cannot). The engine reuses the
 * array it gives `write` once the write has completed: an output that keeps it must copy it.
 *
 * An output read from another fiber gives `read`, which completes once the reader is done with the
 * body: it ended, or broke. Only the bytes around a body (what the blocker held, the last block
 * after the checks) then still go through `write`.
 */
export interface Output<E> {
  readonly write: (chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, E>
  readonly reset: Effect.Effect<boolean, E>
  readonly read?: ((plaintext: Plaintext) => Effect.Effect<void, BodyBreak>) | undefined
  /**
   * Told the plaintext's exact length before a body's bytes, when the server's length of the whole
   * blob is the one the message implies (so a message that lies about its length is never
   * believed): an output that keeps the plaintext can then keep it in one array.
   */
  readonly expect?: ((plaintextLength: number) => void) | undefined
  /**
   * An output that is an open file offers it, for a decryptor whose hash session writes the
   * plaintext where it hashes it (`MediaCrypto.PlaintextFile`); `writeError` names a failed write
   * as the output's error. `reset` must still empty the file.
   */
  readonly file?: { readonly fd: number; readonly writeError: (failure: unknown) => E } | undefined
}

/** What reading one body needs. */
export interface Body<E> {
  readonly stream: Stream.Stream<Uint8Array, HttpClientError.ResponseError>
  readonly blocker: Blocker
  /** Decrypts one block, plaintext (if any) to `out`. */
  readonly decrypt: (block: Uint8Array, out: Array<Uint8Array>) => void
  /** What follows each chunk's step: waiting for the hashes, reporting progress. */
  readonly afterChunk: <A, E2>(step: Effect.Effect<A, E2>) => Effect.Effect<A, E2>
  readonly output: Output<E>
  readonly clock: Clock.Clock
  readonly stall: Duration.Duration
  /** Aborts the body (closes its request's scope), which breaks a reader's pending pull. */
  readonly abort: Effect.Effect<void>
}

/** Reads the body into the output; ends with how it broke, if it did. */
export const read = <E>(body: Body<E>): Effect.Effect<BodyBreak | undefined, E> =>
  Effect.suspend(() => {
    const { afterChunk, blocker, clock, decrypt, output } = body
    const reader = output.read
    const stallMillis = Duration.toMillis(body.stall)
    // The watchdog counts only while the body is awaited, not while the output takes its time with
    // the bytes before (a slow writable, a reader that pulls late).
    let awaiting = reader === undefined
    let lastByteAt = clock.unsafeCurrentTimeMillis()
    let stalled = false
    const awaitBody = Effect.sync(() => {
      awaiting = true
      lastByteAt = clock.unsafeCurrentTimeMillis()
    })
    const gotBytes = (input: Chunk.Chunk<Uint8Array>, out: Array<Uint8Array>) => {
      awaiting = false
      lastByteAt = clock.unsafeCurrentTimeMillis()
      for (const piece of input) for (const block of blocker.push(piece)) decrypt(block, out)
    }

    let reading: Effect.Effect<void, BodyBreak | E>
    if (reader === undefined) {
      // One array for the plaintext of every body chunk, not a fresh one per chunk. Measured on the
      // download bench: with a fresh array per chunk, most runs soon switched to a full collection
      // about every 60 ms for the rest of the download, for a third more CPU. It is V8's
      // allocation-site pretenuring (`--no-allocation-site-pretenuring` makes it go away too).
      const out: Array<Uint8Array> = []
      const feed = (input: Chunk.Chunk<Uint8Array>) => {
        out.length = 0
        gotBytes(input, out)
        return Effect.zipRight(afterChunk(out.length === 0 ? Effect.void : output.write(out)), awaitBody)
      }
      // The body's errors are caught on the loop rather than mapped on the stream: one channel less
      // per chunk. The output's own errors are never a `ResponseError`.
      reading = Effect.catchIf(
        Stream.runForEachChunk(body.stream, feed),
        (error): error is HttpClientError.ResponseError => error instanceof HttpClientError.ResponseError,
        (cause) => Effect.fail(new BodyBreak({ cause }))
      )
    } else {
      // Each pull of the reader reads a chunk of the body and decrypts it; a chunk that gives no
      // plaintext yet (the decryptor holds the last blocks back) is followed by the next one.
      const pulled = (pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<HttpClientError.ResponseError>>) => {
        const broke = Option.map((cause: HttpClientError.ResponseError) => new BodyBreak({ cause }))
        const next: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<BodyBreak>> = Effect.zipRight(
          awaitBody,
          Effect.flatMap(Effect.mapError(pull, broke), (input) => {
            const out: Array<Uint8Array> = []
            gotBytes(input, out)
            if (out.length === 0) return afterChunk(next)
            return afterChunk(Effect.succeed(Chunk.unsafeFromArray(out)))
          })
        )
        return Stream.repeatEffectChunkOption(next)
      }
      reading = reader(Stream.unwrapScoped(Effect.map(Stream.toPull(body.stream), pulled)))
    }

    // One timer for the whole body rather than one per chunk: it sleeps until `stall` after the
    // latest chunk and gives up only if no chunk came in the meantime. A reader's body is aborted
    // rather than failed here: the reader, waiting on it in its own fiber, then sees it break.
    const watchdog: Effect.Effect<never, BodyBreak> = Effect.suspend(() => {
      const wait = awaiting ? lastByteAt + stallMillis - clock.unsafeCurrentTimeMillis() : stallMillis
      if (wait > 0) return Effect.zipRight(Effect.sleep(Duration.millis(wait)), watchdog)
      stalled = true
      return reader === undefined
        ? Effect.fail(new BodyBreak({ cause: "stall" }))
        : Effect.zipRight(body.abort, Effect.never)
    })

    return Effect.raceFirst(reading, watchdog).pipe(
      Effect.as(undefined),
      Effect.catchIf((error): error is BodyBreak => error instanceof BodyBreak, Effect.succeed),
      Effect.map((ended) => stalled ? new BodyBreak({ cause: "stall" }) : ended)
    )
  })
