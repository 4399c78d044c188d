/**
 * File to file through a chunk transformer (the encryptor or the decryptor), on `node:fs/promises`:
 * the output goes to a temp file beside it, renamed onto it only when every check passed, removed on
 * failure or interruption. A reader never sees a partial or unverified file.
 *
 * It takes no `FileSystem` service because it does not use one: the loop is plain Node file I/O, and
 * a signature asking for a `FileSystem` would promise a substitution it does not honour. Keeping the
 * platform modules out also keeps what `encryptFile` and `decryptFile` load small.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { FileHandle } from "node:fs/promises"
import { open, rename, rm } from "node:fs/promises"
import { MediaFileError } from "../MediaError.js"
import type { Later } from "./hashing.js"
import { nodeFileError, tempPathFor, writeAll } from "./nodeFile.js"
import { outputError } from "./sameFile.js"

/**
 * A chunk-based state machine run over a whole file by {@link transformFile}: the encryptor or the
 * decryptor of one pass. `update` may keep a reference to the chunk it was given until its next call
 * (the decryptor holds back the last bytes seen), never longer; its output may be that chunk itself
 * (unencrypted media). {@link transformFile} copies each output before the next call, so the
 * transformer of a file may reuse one output buffer (`Encryptor.fileTransformer`).
 */
export interface Transformer<A, E> {
  readonly update: (chunk: Uint8Array) => Uint8Array
  /** `undefined` when `update` may be called again at once, else a promise of when it may. */
  readonly ready?: () => Promise<void> | undefined
  readonly end: () => Later<Either.Either<readonly [tail: Uint8Array, done: A], E>>
}

/**
 * The chunk size of {@link transformFile}: large enough that the per-request costs (thread pool
 * round trips, system calls) are small next to the crypto, small enough that the four buffers stay
 * a small part of the peak RSS.
 */
export const TRANSFORM_CHUNK_SIZE = 512 * 1024

/** `promise` with its failure mapped by `onError`, never reported as unhandled while nobody awaits it. */
const inFlight = <A>(promise: Promise<A>, onError: (error: unknown) => MediaFileError): Promise<A> => {
  const mapped = promise.catch((error: unknown) => Promise.reject(onError(error)))
  mapped.catch(() => undefined)
  return mapped
}

/** Thrown inside {@link pump} when the fiber running it was interrupted. */
class Interrupted extends Error {}

/**
 * Runs `transformer` from `source` into `sink` and returns what `end` says.
 *
 * The read of chunk N + 1 and the write of the output of chunk N - 1 run on the libuv thread pool
 * while `update` runs on chunk N. Three read buffers, because while chunk N + 1 is read into one and
 * chunk N is transformed in another, the transformer may still hold chunk N - 1 in the third. The
 * output of `update` (the decipher's fresh buffer, or the one the encryptor reuses) is copied into
 * one write buffer before the next `update`. Closes nothing; settles every request it started
 * before it returns or throws.
 */
const pump = async <A, E>(
  source: FileHandle,
  sink: FileHandle,
  transformer: Transformer<A, E>,
  errors: { readonly read: (error: unknown) => MediaFileError; readonly write: (error: unknown) => MediaFileError },
  signal: AbortSignal
): Promise<Either.Either<A, E>> => {
  const buffers = [0, 1, 2].map(() => new Uint8Array(TRANSFORM_CHUNK_SIZE))
  let staging = new Uint8Array(TRANSFORM_CHUNK_SIZE + 64)
  const read = (buffer: Uint8Array) =>
    inFlight(
      source.read(buffer, 0, buffer.length, null).then(({ bytesRead }) => buffer.subarray(0, bytesRead)),
      errors.read
    )
  const write = (bytes: Uint8Array) => inFlight(writeAll(sink, bytes, null), errors.write)
  let nextRead = read(buffers[0]!)
  let pendingWrite: Promise<void> = Promise.resolve()
  try {
    for (let index = 1;; index++) {
      const chunk = await nextRead
      if (chunk.length === 0) break
      if (signal.aborted) throw new Interrupted()
      nextRead = read(buffers[index % buffers.length]!)
      const out = transformer.update(chunk)
      await transformer.ready?.()
      await pendingWrite
      // `staging` is free: the previous write is done.
      if (out.length > staging.length) staging = new Uint8Array(out.length)
      staging.set(out, 0)
      pendingWrite = write(staging.subarray(0, out.length))
    }
    await pendingWrite
    const ended = await transformer.end()
    if (Either.isLeft(ended)) return Either.left(ended.left)
    const [tail, done] = ended.right
    await write(tail)
    return Either.right(done)
  } finally {
    await Promise.allSettled([nextRead, pendingWrite])
  }
}

/**
 * `pump` between `input` and a fresh temp file beside `output`, renamed onto `output` on success and
 * removed otherwise; both files are closed before it settles.
 */
const transformToTemp = async <A, E>(
  input: string,
  output: string,
  transformer: Transformer<A, E>,
  signal: AbortSignal
): Promise<Either.Either<A, E>> => {
  const errors = { read: nodeFileError("Read", input), write: nodeFileError("Write", output) }
  // Before anything is opened: an output over its own input would replace it, and one the rename
  // cannot take would fail only after the whole input was transformed.
  const refused = await outputError([input], output)
  if (refused !== undefined) throw refused
  const source = await inFlight(open(input, "r"), errors.read)
  try {
    const tempPath = tempPathFor(output)
    const sink = await inFlight(open(tempPath, "wx"), errors.write)
    let renamed = false
    try {
      const result = await pump(source, sink, transformer, errors, signal).finally(() =>
        inFlight(sink.close(), errors.write)
      )
      if (Either.isRight(result)) {
        await inFlight(rename(tempPath, output), errors.write)
        renamed = true
      }
      return result
    } finally {
      if (!renamed) await rm(tempPath, { force: true }).catch(() => undefined)
    }
  } finally {
    await source.close().catch(() => undefined)
  }
}

/**
 * Runs `transformer` over the bytes of `input` and writes its output to `output` atomically, in
 * constant memory: three read buffers and one write buffer, allocated once.
 *
 * The loop is one plain async function, not a fiber step per I/O request: it allocates next to
 * nothing per chunk, and it is simpler to follow. Interruption stops it at the next chunk and waits
 * until its files are closed and the temp file is gone. A throwing `update` or `end` is a defect.
 */
export const transformFile = <A, E>(
  input: string,
  output: string,
  transformer: Transformer<A, E>
): Effect.Effect<A, E | MediaFileError> =>
  Effect.async<A, E | MediaFileError>((resume) => {
    const controller = new AbortController()
    const done = transformToTemp(input, output, transformer, controller.signal).then(
      (result) => resume(Either.isRight(result) ? Effect.succeed(result.right) : Effect.fail(result.left)),
      (error: unknown) =>
        resume(
          error instanceof MediaFileError
            ? Effect.fail(error)
            : error instanceof Interrupted
            ? Effect.interrupt
            : Effect.die(error)
        )
    )
    return Effect.promise(() => {
      controller.abort()
      return done
    })
  })
