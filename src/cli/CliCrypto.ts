/**
 * The `MediaCrypto` layer of every command: the library's hash worker pool with 8 slots per transfer
 * instead of 16. A command runs a single transfer and is held to a peak RSS (the ceilings of the
 * bench's CLI jobs), while a program's layer serves many transfers and is held to their speed.
 *
 * Measured with `wa-media encrypt` of 256 MiB, 8 alternating runs each: a peak RSS of 105.5–106.7
 * MiB (mean 106.2) against 106.8–108.9 (mean 107.9) with 16 slots, for the same wall time (0.94
 * against 0.93 s). At 1 GiB it was 106.8–107.8 MiB against 107.9–108.2. The bench's `encrypt file to
 * file`, which keeps the library's 16, lost 3–4% with 8.
 */
import * as MediaCrypto from "../MediaCrypto.js"

/** The crypto layer the commands provide. */
export const layer = MediaCrypto.layerWith({ slots: 8 })
