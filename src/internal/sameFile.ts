/**
 * The guard against writing an output over its own input (`wa-media encrypt in.bin in.bin`): the
 * files are compared by device and inode, not by name, so a symlink or a hard link to the input is
 * caught too.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { BigIntStats } from "node:fs"
import { stat } from "node:fs/promises"
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

/** Fails with the `MediaFileError` `SameFile` when `output` is the same file as one of `inputs`. */
export const refuseSameFile = (
  inputs: ReadonlyArray<string>,
  output: string
): Effect.Effect<void, MediaFileError> =>
  Effect.flatMap(
    Effect.promise(() => sameFileError(inputs, output)),
    (error) => error === undefined ? Effect.void : Effect.fail(error)
  )
