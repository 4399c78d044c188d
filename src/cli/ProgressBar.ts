/**
 * A one-line progress bar on stderr, redrawn in place; only drawn when stderr is a terminal.
 */
import * as Effect from "effect/Effect"

const isTerminal = (): boolean => process.stderr.isTTY === true

const megabytes = (n: number) => (n / 1e6).toFixed(1)

/** Draws `done` of `total` bytes (the total may be unknown) moving through `host`. */
export const draw = (label: string, done: number, total: number | undefined, host: string) =>
  Effect.sync(() => {
    const width = 30
    const fraction = total === undefined || total === 0 ? undefined : Math.min(1, done / total)
    const bar = fraction === undefined
      ? ""
      : `[${"#".repeat(Math.round(fraction * width)).padEnd(width, ".")}] ${(fraction * 100).toFixed(0).padStart(3)}% `
    const of = total === undefined ? "" : `/${megabytes(total)}`
    process.stderr.write(`\r${label}${bar}${megabytes(done)}${of} MB via ${host}\u001b[K`)
  })

/** Ends the bar's line once the transfer is over, whatever its outcome. */
const finish = (drawn: boolean) => drawn ? Effect.sync(() => process.stderr.write("\n")) : Effect.void

/** The progress that uploads and downloads report. */
interface Progress {
  readonly bytes: number
  readonly total: number | undefined
  readonly host: string
}

/**
 * Runs `transfer` with the `onProgress` option that draws the bar labelled `label` (no option when
 * stderr is not a terminal), and ends the bar's line after, whatever the outcome.
 */
export const track = <A, E, R>(
  label: string,
  transfer: (progress: { readonly onProgress?: (progress: Progress) => Effect.Effect<void> }) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const tty = isTerminal()
    const option = tty ? { onProgress: (p: Progress) => draw(label, p.bytes, p.total, p.host) } : {}
    return Effect.ensuring(transfer(option), finish(tty))
  })
