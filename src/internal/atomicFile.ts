/**
 * Atomic file output: bytes go to a temp file `.<name>.<random>.tmp` beside the target (same folder,
 * so the final rename stays on one file system and is atomic), which is renamed onto the target only
 * when everything succeeded, and removed on failure or interruption. A reader never sees a partial
 * or unverified file. This is the `FileSystem` form, for outputs written through Effect's platform;
 * `fileTransform.ts` does the same on `node:fs` for its file-to-file loop.
 *
 * @internal
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { MediaFileError } from "../MediaError.js"
import { tempPathFor } from "./tempPath.js"

/** A platform error as a `MediaFileError` naming the path. */
export const fileError = (reason: "Read" | "Write", path: string) => (error: PlatformError.PlatformError) =>
  new MediaFileError({ reason, path, detail: error.message })

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
