/**
 * A download's plaintext kept in memory (`bytes`, and a small media's `stream`).
 *
 * Pieces are kept as they come and joined at the end, unless the download learns the plaintext's
 * exact length first (`expect`). Then they are copied as they come into one array of that length,
 * so the download never holds all the pieces and their join at once: twice the media's size at
 * its end. Measured with `bytes` of a 256 MiB blob from a loopback server, fresh processes: peak RSS
 * 436–441 MiB against 679 (growth 345–350 MiB against 585), and 207–256 MB/s against 176–177.
 *
 * @internal
 */

/** The plaintext of one download, as it is written. */
export interface PlaintextBytes {
  /** The plaintext's exact length, from the server's confirmed blob length; once is enough. */
  readonly expect: (length: number) => void
  /** Copies or keeps the pieces; the array itself may be reused by the caller. */
  readonly write: (pieces: ReadonlyArray<Uint8Array>) => void
  /** Back to empty, for a download that starts over. */
  readonly reset: () => void
  /** All the plaintext written since the last reset. */
  readonly result: () => Uint8Array
}

const join = (pieces: ReadonlyArray<Uint8Array>): Uint8Array => {
  if (pieces.length === 1) return pieces[0]!
  let length = 0
  for (const piece of pieces) length += piece.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const piece of pieces) {
    out.set(piece, offset)
    offset += piece.length
  }
  return out
}

export const make = (): PlaintextBytes => {
  // The one array, once the length is known, and how much of it is written; the pieces otherwise.
  let whole: Uint8Array | undefined = undefined
  let filled = 0
  let pieces: Array<Uint8Array> = []

  const keep = (piece: Uint8Array): void => {
    if (whole === undefined) {
      pieces.push(piece)
    } else if (filled + piece.length <= whole.length) {
      whole.set(piece, filled)
      filled += piece.length
    } else {
      // More than the length said: the download's length check fails it, but nothing is lost here.
      pieces = [whole.subarray(0, filled), piece]
      whole = undefined
    }
  }

  return {
    expect: (length) => {
      if (whole !== undefined) return
      let held = 0
      for (const piece of pieces) held += piece.length
      if (held > length) return
      // Zero-filled pages come from the kernel untouched: the array costs memory as it fills.
      whole = new Uint8Array(length)
      filled = 0
      const before = pieces
      pieces = []
      for (const piece of before) keep(piece)
    },
    write: (written) => {
      for (const piece of written) keep(piece)
    },
    reset: () => {
      pieces = []
      filled = 0
    },
    result: () => whole === undefined ? join(pieces) : filled === whole.length ? whole : whole.slice(0, filled)
  }
}
