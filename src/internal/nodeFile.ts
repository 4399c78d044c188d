/**
 * What the `node:fs` outputs (`fileTransform.ts`, `fileOutput.ts`) share: the temp file beside an
 * output, Node errors as `MediaFileError`, and a complete write.
 *
 * @internal
 */
import { randomBytes } from "node:crypto"
import type { FileHandle } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { MediaFileError } from "../MediaError.js"

/**
 * A fresh temp file name for `target`: `.<name>.<random>.tmp` in the same folder, so that the final
 * rename stays on one file system and is atomic.
 */
export const tempPathFor = (target: string): string =>
  join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`)

/** A Node file system error as a `MediaFileError` naming the path. */
export const nodeFileError = (reason: "Read" | "Write", path: string) => (error: unknown) =>
  new MediaFileError({ reason, path, detail: error instanceof Error ? error.message : String(error) })

/** Writes all of `bytes` at `position`, or at the handle's current position when it is `null`. */
export const writeAll = async (handle: FileHandle, bytes: Uint8Array, position: number | null): Promise<void> => {
  let offset = 0
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(
      bytes,
      offset,
      bytes.length - offset,
      position === null ? null : position + offset
    )
    offset += bytesWritten
  }
}
