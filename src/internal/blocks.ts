/**
 * A byte re-blocker: `Stream.rechunk` counts elements, not bytes, and node:crypto pays a fixed cost
 * per call, so small pieces are gathered into blocks of `size` bytes. Pieces of `DIRECT_SIZE` and
 * more pass through untouched (no copy), after what was held. The stream transformers and the
 * download engine re-block the same way.
 *
 * @internal
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Transformer } from "./fileTransform.js"
import * as Hashing from "./hashing.js"

/** The block size the crypto transformers gather small pieces into. */
export const BLOCK_SIZE = 64 * 1024

/** How many output bytes a transformer gathers at most (give or take one block) before writing them. */
export const FLUSH_BYTES = 256 * 1024

/** @internal */
export interface Blocker {
  /** Adds a piece; returns the blocks that are ready (possibly none). */
  readonly push: (piece: Uint8Array) => ReadonlyArray<Uint8Array>
  /** Returns whatever is still buffered (possibly empty). */
  readonly flush: () => Uint8Array | undefined
}

/**
 * Pieces at least this large go to the state machine as they are, after what the blocker held:
 * node:crypto's per-call cost is already small next to them, and copying every byte into blocks
 * would cost more.
 */
export const DIRECT_SIZE = 16 * 1024

/** @internal */
export const makeBlocker = (size: number = BLOCK_SIZE): Blocker => {
  let buffer: Uint8Array | undefined = undefined
  let filled = 0
  const direct = Math.min(size, DIRECT_SIZE)

  const push = (piece: Uint8Array): ReadonlyArray<Uint8Array> => {
    if (piece.length >= direct) {
      const held = flush()
      return held === undefined ? [piece] : [held, piece]
    }
    const ready: Array<Uint8Array> = []
    let offset = 0
    while (offset < piece.length) {
      if (buffer === undefined) buffer = new Uint8Array(size)
      const n = Math.min(size - filled, piece.length - offset)
      buffer.set(piece.subarray(offset, offset + n), filled)
      filled += n
      offset += n
      if (filled === size) {
        ready.push(buffer)
        // A fresh buffer each time: consumers (the decryptor) may keep a reference to a block.
        buffer = undefined
        filled = 0
      }
    }
    return ready
  }

  const flush = (): Uint8Array | undefined => {
    if (buffer === undefined || filled === 0) return undefined
    const rest = buffer.subarray(0, filled)
    buffer = undefined
    filled = 0
    return rest
  }

  return { push, flush }
}

/**
 * A channel from byte chunks to byte chunks around a chunk-based state machine (the transformer
 * `MediaFile` runs over files): input is re-blocked, each block goes through `update`, the channel
 * waits while the transformer's hashes are behind (`ready`, a worker's session), and at the end
 * `end` either hands over the last bytes and a terminal value, or fails (and then nothing more is
 * written). The state machine must be created by the caller inside the channel's run, so that every
 * run starts clean.
 *
 * @internal
 */
export const transformChannel = <Done, EF, E>(
  transformer: Transformer<Done, EF>
): Channel.Channel<Chunk.Chunk<Uint8Array>, Chunk.Chunk<Uint8Array>, E | EF, E, Done, unknown> => {
  const { end, update } = transformer
  const blocker = makeBlocker()
  type Loop = Channel.Channel<Chunk.Chunk<Uint8Array>, Chunk.Chunk<Uint8Array>, E | EF, E, Done, unknown>
  const waitFor = (hashed: Promise<void>, next: Loop): Loop =>
    Channel.zipRight(Channel.fromEffect(Effect.promise(() => hashed)), next)
  // One input chunk may hold many pieces (`Stream.fromIterable` of a whole file's chunks): the output
  // is written once at least FLUSH_BYTES are ready, not gathered for the whole input chunk, so memory
  // stays bounded by the piece size whatever the upstream chunking.
  const feed = (pieces: ReadonlyArray<Uint8Array>, from: number): Loop => {
    const out: Array<Uint8Array> = []
    let gathered = 0
    let i = from
    while (i < pieces.length && gathered < FLUSH_BYTES) {
      for (const block of blocker.push(pieces[i++]!)) {
        const bytes = update(block)
        if (bytes.length > 0) {
          out.push(bytes)
          gathered += bytes.length
        }
      }
    }
    const more: Loop = i < pieces.length ? Channel.suspend(() => feed(pieces, i)) : loop
    const hashed = transformer.ready?.()
    const rest = hashed === undefined ? more : waitFor(hashed, more)
    return out.length === 0 ? rest : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), rest)
  }
  const finish = (last: Uint8Array | undefined) => (ended: Either.Either<readonly [Uint8Array, Done], EF>): Loop => {
    if (Either.isLeft(ended)) return Channel.fail(ended.left)
    const [tail, done] = ended.right
    const out: Array<Uint8Array> = []
    if (last !== undefined && last.length > 0) out.push(last)
    if (tail.length > 0) out.push(tail)
    return out.length === 0
      ? Channel.succeed(done)
      : Channel.as(Channel.write(Chunk.unsafeFromArray(out)), done)
  }
  const loop: Loop = Channel
    .readWithCause({
      onInput: (input: Chunk.Chunk<Uint8Array>) => feed(Chunk.toReadonlyArray(input), 0),
      onFailure: (cause) => Channel.failCause(cause),
      onDone: () => {
        const rest = blocker.flush()
        const last = rest === undefined ? undefined : update(rest)
        const ended = end()
        // Held back until the hashes are in: the last bytes are not written before the checks ran.
        return ended instanceof Promise
          ? Channel.unwrap(Effect.map(Effect.promise(() => ended), finish(last)))
          : finish(last)(ended)
      }
    })
  return loop
}

/** The piece size {@link transformBytes} feeds its transformer. */
export const BYTES_PIECE_SIZE = 1024 * 1024

/**
 * Runs `transformer` over bytes held in memory, one piece of {@link BYTES_PIECE_SIZE} at a time so
 * that a worker's hashes of one piece run beside the cipher of the next, and writes its output into
 * one buffer of `capacity` bytes (at least the whole output): no piece is kept, no concatenation at
 * the end. Returns the output (a view when it is shorter than `capacity`) and what `end` says.
 *
 * @internal
 */
export const transformBytes = <Done, EF>(
  transformer: Transformer<Done, EF>,
  input: Uint8Array,
  capacity: number
): Effect.Effect<readonly [output: Uint8Array, done: Done], EF> =>
  Effect.suspend(() => {
    const output = new Uint8Array(capacity)
    let filled = 0
    const put = (bytes: Uint8Array) => {
      output.set(bytes, filled)
      filled += bytes.length
    }
    const end = Effect.flatMap(
      Effect.suspend(() => Hashing.toEffect(transformer.end())),
      Either.match({
        onLeft: (error) => Effect.fail(error),
        onRight: ([tail, done]) => {
          put(tail)
          return Effect.succeed([filled === capacity ? output : output.subarray(0, filled), done] as const)
        }
      })
    )
    const from = (offset: number): Effect.Effect<readonly [Uint8Array, Done], EF> => {
      if (offset >= input.length) return end
      put(transformer.update(input.subarray(offset, offset + BYTES_PIECE_SIZE)))
      const next = Effect.suspend(() => from(offset + BYTES_PIECE_SIZE))
      const hashed = transformer.ready?.()
      return hashed === undefined ? next : Effect.zipRight(Hashing.toEffect(hashed), next)
    }
    return from(0)
  })
