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
import * as Exit from "effect/Exit"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { basename, dirname, join } from "node:path"
import { MediaFileError } from "../MediaError.js"

/** The read chunk size of file inputs: large enough that per-chunk costs vanish. */
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
