/**
 * The temp file beside an output: `.<name>.<random>.tmp` in the same folder, so that the final
 * rename stays on one file system and is atomic.
 *
 * @internal
 */
import { randomBytes } from "node:crypto"
import { basename, dirname, join } from "node:path"

/** A fresh temp file name for `target`. */
export const tempPathFor = (target: string): string =>
  join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`)
