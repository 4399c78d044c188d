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
import type { FileHandle } from "node:fs/promises"
import { open } from "node:fs/promises"
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
 * (the decryptor holds back the last bytes seen), never longer; its output may be that chunk itself
 * (unencrypted media).
 */
export interface Transformer<A, E> {
  readonly update: (chunk: Uint8Array) => Uint8Array
  readonly end: () => Either.Either<readonly [tail: Uint8Array, done: A], E>
}

/** The chunk size of {@link transformFile}: see there for the choice. */
export const TRANSFORM_CHUNK_SIZE = 1024 * 1024

/** A Node file system error as a `MediaFileError` naming the path. */
const nodeFileError = (reason: "Read" | "Write", path: string) => (error: unknown) =>
  new MediaFileError({ reason, path, detail: error instanceof Error ? error.message : String(error) })

/**
 * Starts `operation` at once and returns an effect that waits for its outcome: an I/O request in
 * flight on the libuv thread pool while this fiber runs the crypto, without a fiber per request. The
 * promise waited on never rejects, so an outcome nobody waits for (after an interruption) is dropped
 * quietly; the file handle's `close` waits for the request to finish.
 */
const start = <A>(
  operation: () => Promise<A>,
  onError: (error: unknown) => MediaFileError
): Effect.Effect<Effect.Effect<A, MediaFileError>> =>
  Effect.sync(() => {
    const outcome = operation().then(Either.right, (error) => Either.left(onError(error)))
    return Effect.flatten(Effect.promise(() => outcome))
  })

/** Opens a file handle for the scope. */
const openHandle = (path: string, flags: "r" | "wx", onError: (error: unknown) => MediaFileError) =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => open(path, flags), catch: onError }),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

/** Writes all of `bytes` at the handle's current position. */
const writeAll = async (handle: FileHandle, bytes: Uint8Array): Promise<void> => {
  let offset = 0
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset)
    offset += bytesWritten
  }
}

/**
 * Runs `transformer` over the bytes of `input` and writes its output to `output` atomically (see
 * {@link withTempFile}), in constant memory: three read buffers and one write buffer, allocated once.
 *
 * One long-lived pipeline on `node:fs/promises` file handles that overlaps the I/O with the crypto:
 * the read of chunk N + 1 and the write of the output of chunk N - 1 run on the libuv thread pool
 * while `update` runs on chunk N. Three read buffers, because while chunk N + 1 is read into one and
 * chunk N is transformed in another, the transformer may still hold chunk N - 1 in the third.
 *
 * The output of `update` (a fresh buffer from the cipher) is copied into the write buffer, a memcpy
 * cheap next to the crypto, and dies at once: written as it is, it would be held across the
 * asynchronous write, get promoted out of V8's young generation and wait for full collections,
 * which would then dominate the run and raise the peak RSS by tens of MB. Chunks of 1 MiB keep the
 * per-request costs (thread pool round trips, system calls, fiber steps) small next to the crypto.
 */
export const transformFile = <A, E>(
  input: string,
  output: string,
  transformer: Transformer<A, E>
): Effect.Effect<A, E | MediaFileError, FileSystem.FileSystem> =>
  withTempFile(output, (tempPath) =>
    Effect.scoped(Effect.gen(function*() {
      const readError = nodeFileError("Read", input)
      const writeError = nodeFileError("Write", output)
      const source = yield* openHandle(input, "r", readError)
      const sink = yield* openHandle(tempPath, "wx", writeError)
      const startRead = (buffer: Uint8Array) =>
        start(
          () => source.read(buffer, 0, buffer.length, null).then(({ bytesRead }) => buffer.subarray(0, bytesRead)),
          readError
        )
      const startWrite = (bytes: Uint8Array) =>
        bytes.length === 0 ? Effect.succeed(Effect.void) : start(() => writeAll(sink, bytes), writeError)
      const buffers = [0, 1, 2].map(() => new Uint8Array(TRANSFORM_CHUNK_SIZE))
      let nextRead = yield* startRead(buffers[0]!)
      let staging = new Uint8Array(TRANSFORM_CHUNK_SIZE + 64)
      // Called once the previous write is done: `staging` is free.
      const stage = (bytes: Uint8Array): Uint8Array => {
        if (bytes.length > staging.length) staging = new Uint8Array(bytes.length)
        staging.set(bytes, 0)
        return staging.subarray(0, bytes.length)
      }
      let pendingWrite: Effect.Effect<void, MediaFileError> = Effect.void
      for (let index = 1;; index++) {
        const chunk = yield* nextRead
        if (chunk.length === 0) break
        nextRead = yield* startRead(buffers[index % buffers.length]!)
        const out = transformer.update(chunk)
        yield* pendingWrite
        pendingWrite = yield* startWrite(stage(out))
      }
      yield* pendingWrite
      const ended = transformer.end()
      if (Either.isLeft(ended)) return yield* Effect.fail(ended.left)
      const [tail, done] = ended.right
      yield* Effect.flatten(startWrite(tail))
      return done
    })))
