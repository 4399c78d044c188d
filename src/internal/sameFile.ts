/**
 * The guards on an output path, checked before any work: never over its own input (`wa-media
 * encrypt in.bin in.bin`; the files are compared by device and inode, not by name, so a symlink or a
 * hard link to the input is caught too), and only where the file can be written: not over a folder
 * or a device, and in a folder that exists and may be written to. Without them, an output the final
 * rename cannot take would only fail once all the input was read and transformed.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { BigIntStats } from "node:fs"
import { constants } from "node:fs"
import { access, stat } from "node:fs/promises"
import { dirname } from "node:path"
import { MediaFileError } from "../MediaError.js"

const identity = (path: string): Promise<BigIntStats | undefined> => stat(path, { bigint: true }).catch(() => undefined)

/**
 * Resolves to the `MediaFileError` `SameFile` when `output` is the same file as one of `inputs`, else
 * to `undefined`. An output that does not exist yet is never an input; a file that cannot be looked
 * at is left to the read or the write that follows to report.
 */
export const sameFileError = async (
  inputs: ReadonlyArray<string>,
  output: string
): Promise<MediaFileError | undefined> => {
  const target = await identity(output)
  if (target === undefined) return undefined
  for (const input of inputs) {
    const source = await identity(input)
    if (source !== undefined && source.dev === target.dev && source.ino === target.ino) {
      return new MediaFileError({
        reason: "SameFile",
        path: output,
        detail: `it is the same file as the input ${input}`
      })
    }
  }
  return undefined
}

/**
 * Resolves to the `MediaFileError` `Write` when `output` cannot be written atomically: it is a folder
 * or another non-regular file (a device, a pipe: the rename would replace it), or its folder is
 * missing or not writable; else to `undefined`.
 */
export const unwritableError = async (output: string): Promise<MediaFileError | undefined> => {
  const fail = (detail: string) => new MediaFileError({ reason: "Write", path: output, detail })
  const target = await stat(output).catch(() => undefined)
  if (target !== undefined && !target.isFile()) {
    return fail(target.isDirectory() ? "it is a directory" : "it is not a regular file")
  }
  // The temp file and the rename both need to write to the folder.
  return access(dirname(output), constants.W_OK).then(
    () => undefined,
    (error: unknown) => fail(error instanceof Error ? error.message : String(error))
  )
}

/** The first of {@link sameFileError} and {@link unwritableError} that applies to `output`. */
export const outputError = async (
  inputs: ReadonlyArray<string>,
  output: string
): Promise<MediaFileError | undefined> => (await sameFileError(inputs, output)) ?? (await unwritableError(output))

/**
 * Fails with the `MediaFileError` of {@link outputError}: `SameFile` when `output` is one of
 * `inputs`, `Write` when it cannot be written.
 */
export const refuseOutput = (
  inputs: ReadonlyArray<string>,
  output: string
): Effect.Effect<void, MediaFileError> =>
  Effect.flatMap(
    Effect.promise(() => outputError(inputs, output)),
    (error) => error === undefined ? Effect.void : Effect.fail(error)
  )
