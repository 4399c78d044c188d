/**
 * An atomic file output on `node:fs/promises` for bytes that arrive in pieces (a download): the
 * bytes go to a temp file beside the target, renamed onto it only when `use` succeeded, removed
 * otherwise. Writes run behind the caller: bytes are copied into one of two fixed buffers, and a
 * full buffer is written in the background while the other one fills, so the network, the
 * decryption and the disk overlap with at most two buffers in memory, whatever the file size.
 *
 * A download whose decryptor's hash session runs on `MediaCrypto`'s worker has that worker write
 * the plaintext instead, through the descriptor the output offers (`file`); the buffers, taken on
 * first use, are then never taken.
 *
 * The background write is a plain promise, not a fiber: the caller's fiber only waits when both
 * buffers are full. Measured on the download bench, a forked `FileSystem.File.writeAll` per buffer
 * made V8 run a full collection every ~90 ms and cost about as much CPU as the decryption.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { FileHandle } from "node:fs/promises"
import { open, rename, rm } from "node:fs/promises"
import { MediaFileError } from "../MediaError.js"
import * as BufferPool from "./bufferPool.js"
import { nodeFileError, tempPathFor, writeAll } from "./nodeFile.js"
import { unwritableError } from "./sameFile.js"

/**
 * The size of each of the two buffers: 256 KiB in flight per download. Measured on the bench's
 * burst of 200 downloads to files, two 1 MiB buffers each were most of the RSS growth.
 */
export const BUFFER_SIZE = 128 * 1024

/** Where the bytes of one attempt go. */
export interface FileOutput {
  /** Copies `chunks` in; waits only when both buffers are full (one being written). */
  readonly write: (chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, MediaFileError>
  /** Drops what is buffered, waits for the write in flight, and empties the file. */
  readonly reset: Effect.Effect<void, MediaFileError>
  /** The temp file's descriptor, for a writer elsewhere, and how a failed write of it is reported. */
  readonly file: { readonly fd: number; readonly writeError: (failure: unknown) => MediaFileError }
}

/** The write-behind over an open temp file; `toError` names the target in errors. */
const makeWriter = (handle: FileHandle, toError: (error: unknown) => MediaFileError, bufferSize: number) => {
  // Both taken on first use: a download whose hash worker writes the file never needs them.
  let filling: Uint8Array | undefined = undefined
  // The other buffer: free, or the one the write in flight is writing.
  let spare: Uint8Array | undefined = undefined
  let filled = 0
  let position = 0
  // The write in flight; it never rejects: it resolves to its error, if any.
  let inFlight: Promise<MediaFileError | undefined> | undefined = undefined

  /** Waits for the write in flight, failing with its error. */
  const settle: Effect.Effect<void, MediaFileError> = Effect.suspend(() => {
    const pending = inFlight
    if (pending === undefined) return Effect.void
    return Effect.flatMap(Effect.promise(() => pending), (error) => {
      inFlight = undefined
      return error === undefined ? Effect.void : Effect.fail(error)
    })
  })

  /** Hands the filled part of `filling` to a background write, after the previous one ended. */
  const issue: Effect.Effect<void, MediaFileError> = Effect.zipRight(
    settle,
    Effect.sync(() => {
      if (filled === 0 || filling === undefined) return
      const full = filling
      const length = filled
      filling = spare
      spare = full
      filled = 0
      inFlight = writeAll(handle, full.subarray(0, length), position).then(() => undefined, toError)
      position += length
    })
  )

  const write = (chunks: ReadonlyArray<Uint8Array>): Effect.Effect<void, MediaFileError> =>
    Effect.suspend(() => {
      for (let i = 0; i < chunks.length; i++) {
        const chunk = chunks[i]!
        let offset = 0
        while (offset < chunk.length) {
          const n = Math.min(bufferSize - filled, chunk.length - offset)
          filling ??= BufferPool.take(bufferSize)
          filling.set(chunk.subarray(offset, offset + n), filled)
          filled += n
          offset += n
          if (filled === bufferSize) {
            // Once per buffer: the rest goes on after the buffer is handed over.
            const rest = [chunk.subarray(offset), ...chunks.slice(i + 1)]
            return Effect.zipRight(issue, write(rest))
          }
        }
      }
      return Effect.void
    })

  const flush = Effect.zipRight(issue, settle)

  const reset = Effect.zipRight(
    settle,
    Effect.suspend(() => {
      filled = 0
      position = 0
      return Effect.tryPromise({ try: () => handle.truncate(0), catch: toError })
    })
  )

  // A write still in flight is waited for before the file is closed or removed.
  const drain = Effect.promise(() => inFlight ?? Promise.resolve(undefined))

  /** Gives both buffers back to the pool; only once no write is in flight. */
  const release = () => {
    if (filling !== undefined) BufferPool.give(filling)
    if (spare !== undefined) BufferPool.give(spare)
  }

  return { write, reset, flush, drain, release }
}

/**
 * Runs `use` with an output to a fresh temp file beside `target`; on success, writes what is left,
 * closes the file and renames it onto `target`. On failure or interruption, waits for the write in
 * flight, closes the file and removes it.
 */
export const withFileOutput = <A, E, R>(
  target: string,
  use: (output: FileOutput) => Effect.Effect<A, E, R>,
  bufferSize: number = BUFFER_SIZE
): Effect.Effect<A, E | MediaFileError, R> => {
  const toError = nodeFileError("Write", target)
  return Effect.acquireUseRelease(
    Effect.suspend(() => {
      const tempPath = tempPathFor(target)
      return Effect.tryPromise({
        try: async () => {
          // A target the final rename cannot take fails now, not once all the bytes arrived.
          const refused = await unwritableError(target)
          if (refused !== undefined) throw refused
          const handle = await open(tempPath, "wx")
          return { tempPath, handle, writer: makeWriter(handle, toError, bufferSize), closed: false }
        },
        catch: (error) => error instanceof MediaFileError ? error : toError(error)
      })
    }),
    (file) =>
      Effect.tap(
        use({
          write: file.writer.write,
          reset: file.writer.reset,
          file: { fd: file.handle.fd, writeError: toError }
        }),
        () =>
          Effect.zipRight(
            file.writer.flush,
            // Once closing began, the rename is not cut short: the outcome then matches the disk.
            Effect.uninterruptible(Effect.tryPromise({
              try: async () => {
                file.closed = true
                await file.handle.close()
                await rename(file.tempPath, target)
              },
              catch: toError
            }))
          )
      ),
    (file, exit) =>
      Exit.isSuccess(exit) ? Effect.sync(file.writer.release) : Effect.zipRight(
        file.writer.drain,
        Effect.promise(async () => {
          file.writer.release()
          if (!file.closed) await file.handle.close().catch(() => undefined)
          await rm(file.tempPath, { force: true }).catch(() => undefined)
        })
      )
  )
}
