/**
 * Platform file system errors as the library's `MediaFileError`, naming the path: platform errors
 * never reach the public error channel (STYLE.md).
 *
 * @internal
 */
import type * as PlatformError from "@effect/platform/Error"
import { MediaFileError } from "../MediaError.js"

/** A platform error as a `MediaFileError` naming the path. */
export const fileError = (reason: "Read" | "Write", path: string) => (error: PlatformError.PlatformError) =>
  new MediaFileError({ reason, path, detail: error.message })
