/**
 * Atomic file output: bytes go to a temp file `.<name>.<random>.tmp` beside the target (same folder,
 * so the final rename stays on one file system and is atomic), which is renamed onto the target only
 * when everything succeeded, and removed on failure or interruption. A reader never sees a partial
 * or unverified file.
 *
 * @internal
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { basename, dirname, join } from "node:path"
import { MediaFileError } from "../MediaError.js"

/**
 * The read chunk size of file inputs: large enough that per-chunk costs vanish, small enough that a
 * chunk stays in the CPU cache across the cipher and hash passes over it.
 */
export const READ_CHUNK_SIZE = 256 * 1024

/** A platform error as a `MediaFileError` naming the path. */
export const fileError = (reason: "Read" | "Write", path: string) => (error: PlatformError.PlatformError) =>
  new MediaFileError({ reason, path, detail: error.message })

/** The temp file name used for `target`. */
export const tempPathFor = (target: string): string =>
  join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`)

/**
 * Runs `use` with a fresh temp path beside `target`; renames it onto `target` when `use` succeeds,
 * removes it when `use` (or the rename) fails or is interrupted.
 */
export const withTempFile = <A, E, R>(
  target: string,
  use: (tempPath: string) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | MediaFileError, R | FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.acquireUseRelease(
      Effect.sync(() => tempPathFor(target)),
      (tempPath) =>
        Effect.tap(
          use(tempPath),
          () => Effect.mapError(fs.rename(tempPath, target), fileError("Write", target))
        ),
      (tempPath, exit) =>
        Exit.isSuccess(exit)
          ? Effect.void
          : Effect.ignore(fs.remove(tempPath, { force: true }))
    ))

/**
 * Writes a stream to `target` atomically: the file appears, complete, only if the stream ends
 * without failure.
 */
export const writeStream = <E, R>(
  target: string,
  stream: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<void, E | MediaFileError, R | FileSystem.FileSystem> =>
  withTempFile(
    target,
    (tempPath) =>
      Effect.flatMap(FileSystem.FileSystem, (fs) =>
        Stream.run(stream, Sink.mapError(fs.sink(tempPath, { flag: "wx" }), fileError("Write", target))))
  )

/**
 * A chunk-based state machine run over a whole file by {@link transformFile}: the encryptor or the
 * decryptor of one pass. `update` may keep a reference to the chunk it was given until its next call
 * (the decryptor holds back the last bytes seen), never longer.
 */
export interface Transformer<A, E> {
  readonly update: (chunk: Uint8Array) => Uint8Array
  readonly end: () => Either.Either<readonly [tail: Uint8Array, done: A], E>
}

/**
 * Runs `transformer` over the bytes of `input` and writes its output to `output` atomically (see
 * {@link withTempFile}), in constant memory: two read buffers and one write buffer, allocated once.
 *
 * This is a plain loop rather than `fs.stream` into `fs.sink` on purpose: a fresh buffer per chunk,
 * held across the asynchronous read and write, outlives V8's young generation and is only freed by
 * full collections, which then dominate the run and raise the peak RSS. Here the output of each
 * `update` is copied into the write buffer (a memcpy, cheap next to the crypto) and dies at once.
 * Reads and writes are not overlapped: from the page cache they take a few percent of the time, and
 * overlapping them costs fibers and memory.
 */
export const transformFile = <A, E>(
  input: string,
  output: string,
  transformer: Transformer<A, E>
): Effect.Effect<A, E | MediaFileError, FileSystem.FileSystem> =>
  Effect.flatMap(
    FileSystem.FileSystem,
    (fs) =>
      withTempFile(output, (tempPath) =>
        Effect.scoped(Effect.gen(function*() {
          const source = yield* Effect.mapError(fs.open(input, { flag: "r" }), fileError("Read", input))
          const sink = yield* Effect.mapError(fs.open(tempPath, { flag: "wx" }), fileError("Write", output))
          const read = (buffer: Uint8Array) =>
            source.read(buffer).pipe(
              Effect.mapError(fileError("Read", input)),
              Effect.map((n) => buffer.subarray(0, Number(n)))
            )
          const write = (bytes: Uint8Array) =>
            bytes.length === 0 ? Effect.void : Effect.mapError(sink.writeAll(bytes), fileError("Write", output))
          // Two read buffers: `update` may hold the previous chunk until it gets the next one.
          const buffers = [new Uint8Array(READ_CHUNK_SIZE), new Uint8Array(READ_CHUNK_SIZE)] as const
          let staging = new Uint8Array(READ_CHUNK_SIZE + 64)
          const stage = (bytes: Uint8Array): Uint8Array => {
            if (bytes.length > staging.length) staging = new Uint8Array(bytes.length)
            staging.set(bytes, 0)
            return staging.subarray(0, bytes.length)
          }
          let current = 0
          let chunk = yield* read(buffers[current])
          while (chunk.length > 0) {
            yield* write(stage(transformer.update(chunk)))
            current = 1 - current
            chunk = yield* read(buffers[current])
          }
          const ended = transformer.end()
          if (Either.isLeft(ended)) return yield* Effect.fail(ended.left)
          const [tail, done] = ended.right
          yield* write(tail)
          return done
        })))
  )
