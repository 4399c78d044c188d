/**
 * `MediaCrypto`'s worker pool: the hashes of large blobs run on `worker_threads` workers shared by
 * every transfer of the layer, while the calling thread runs the cipher and the I/O. AES-CBC and
 * the three SHA-256 passes then take two cores instead of one.
 *
 * A session copies the plaintext and ciphertext it is given into fixed slots (plaintext in the
 * first half, ciphertext in the second; all ciphertext when the calling thread hashes the
 * plaintext) that are transferred to its worker and come back once hashed, so a transfer
 * allocates nothing per chunk and holds at most `slots` slots: when they are all at the worker,
 * `ready` makes the transfer wait. A worker takes transfers while their slots fit in `sessions`
 * times `slots` (one that writes a file waits at a quarter of them, and counts so); the next ones
 * hash inline, so what waits at the workers is bounded too. The workers start on the first
 * session that needs one and stop when the layer's scope closes; a pool whose workers cannot start (no
 * `hashWorker.js` beside this module, a platform without workers) hashes everything inline. A
 * worker that fails later is a defect of the sessions on it: their hash state is gone with it.
 * The first large session also makes the process keep the memory transfers free
 * (`heapRetention.ts`), unless `retainFreedMemory` is false.
 *
 * A decrypting session opened with a file (a download's temp file) puts the plaintext in its slots
 * too, and its worker hashes all three and writes the plaintext to the file: the calling thread
 * then only reads, decrypts and copies into slots. Measured on a 1 GiB download to a file, against
 * the download's own write-behind on the libuv pool, in two rounds of 5 alternating runs: medians
 * of 339 and 347 MB/s against 307 and 332, and 1.7 to 2.2 s of the calling thread's CPU against
 * 2.4 to 2.5 s. Such a session's scope waits, when it closes, until its worker has handled
 * everything sent before, so that the file is never closed (and its descriptor reused) under a
 * write.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { createHash } from "node:crypto"
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import type { CipherSession, Digests, HashSession, PlaintextFile, PoolOptions } from "../MediaCrypto.js"
import type * as MediaKeys from "../MediaKeys.js"
import * as CipherSessions from "./cipherSession.js"
import * as Hashing from "./hashing.js"
import * as HeapRetention from "./heapRetention.js"

/** How a pool runs (see `MediaCrypto.PoolOptions`); every field has a default. */
export interface Options extends PoolOptions {
  /** The worker's module; `hashWorker.js` beside this module by default. */
  readonly workerUrl?: URL | undefined
}

export const DEFAULT_THRESHOLD = 8 * 1024 * 1024
/** From this size a download to a file goes to a worker, which then writes the file too. */
export const DEFAULT_FILE_THRESHOLD = 3 * 1024 * 1024
// Two 512 KiB file chunks' worth when encrypting (a chunk fills eight slots; four when decrypting,
// whose slots carry ciphertext only): with fewer, the transfer waited for the worker after every
// chunk and the cipher and the hashes hardly overlapped.
const DEFAULT_SLOTS = 16
const DEFAULT_SLOT_SIZE = 128 * 1024
const DEFAULT_SESSIONS = 4

/** What one session hears from its worker. */
interface Listener {
  readonly onMessage: (message: FromWorker) => void
  readonly onFailure: (error: unknown) => void
}

interface PoolWorker {
  readonly worker: Worker
  /** Its sessions, each with the slots it may hold at once (`slotsOf`). */
  readonly sessions: Map<number, Listener & { readonly slots: number }>
  failed: boolean
}

/** The slots a worker's sessions may hold at once, together. */
const loadOf = (pool: PoolWorker): number => {
  let load = 0
  for (const session of pool.sessions.values()) load += session.slots
  return load
}

type FromWorker =
  | { readonly ready: true }
  | { readonly id: number; readonly slot: ArrayBuffer }
  | { readonly id: number; readonly digests: Digests }
  | { readonly id: number; readonly ciphertext: ArrayBuffer; readonly length: number }
  | { readonly id: number; readonly last: Uint8Array }
  | { readonly id: number; readonly writeFailed: { readonly code?: string; readonly message: string } }
  | { readonly id: number; readonly closed: true }

const noop = () => undefined

const empty = new Uint8Array(0)

/** A promise and its settlers; a rejection nobody waits for is not reported as unhandled. */
const deferred = <A>() => {
  let resolve!: (a: A) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(noop)
  return { promise, resolve, reject }
}

const rejected = (error: unknown): Promise<never> => {
  const promise = Promise.reject(error)
  promise.catch(noop)
  return promise
}

/**
 * A hash worker allocates little besides its messages, so a small young generation is enough for
 * it. Measured with the CLI's 256 MiB encrypt: peak RSS 1.5 to 2 MB lower than with V8's default
 * young generation, and hashing no slower.
 */
const workerOptions = { resourceLimits: { maxYoungGenerationSizeMb: 2 } }

/** Starts one worker; `undefined` when it cannot start. */
const startWorker = (url: URL): Promise<PoolWorker | undefined> =>
  new Promise((resolve) => {
    let worker: Worker
    try {
      worker = new Worker(url, workerOptions)
    } catch {
      return resolve(undefined)
    }
    const pool: PoolWorker = { worker, sessions: new Map(), failed: false }
    const fail = (error: unknown) => {
      pool.failed = true
      for (const listener of pool.sessions.values()) listener.onFailure(error)
      pool.sessions.clear()
    }
    const early = () => {
      worker.off("message", onReady)
      resolve(undefined)
      void worker.terminate()
    }
    const onReady = () => {
      worker.off("error", early)
      worker.off("exit", early)
      worker.on("message", (message: FromWorker) => {
        if ("ready" in message) return
        pool.sessions.get(message.id)?.onMessage(message)
      })
      worker.on("error", fail)
      worker.on("exit", (code) => fail(new Error(`the hash worker exited with code ${code}`)))
      resolve(pool)
    }
    worker.once("message", onReady)
    worker.once("error", early)
    worker.once("exit", early)
  })

let nextId = 0

/** A session's place at its worker. */
interface Registration {
  readonly id: number
  /** The worker answered the session's last message: nothing of it is left there. */
  readonly end: () => void
  /** For the session's scope: tells the worker to drop a session that did not end. */
  readonly close: () => void
  /** As `close`, settling once the worker has handled everything sent before (or failed). */
  readonly closeHandled: () => Promise<void>
}

/** Registers the listener of a session that may hold `slots` slots at once on `pool`. */
const register = (pool: PoolWorker, slots: number, listener: Listener): Registration => {
  const id = nextId++
  let open = true
  let handled: (() => void) | undefined = undefined
  pool.sessions.set(id, {
    slots,
    onMessage: (message) => {
      if ("closed" in message) {
        pool.sessions.delete(id)
        handled?.()
      } else {
        listener.onMessage(message)
      }
    },
    onFailure: (error) => {
      open = false
      listener.onFailure(error)
      handled?.()
    }
  })
  const close = () => {
    if (!open) return
    open = false
    pool.sessions.delete(id)
    if (!pool.failed) pool.worker.postMessage({ op: "close", id })
  }
  return {
    id,
    end: () => {
      open = false
      pool.sessions.delete(id)
      // The worker sent the last answer of the session: nothing it was sent is left to handle.
      handled?.()
    },
    close,
    closeHandled: () => {
      if (!open || pool.failed) {
        close()
        return Promise.resolve()
      }
      open = false
      return new Promise((resolve) => {
        handled = resolve
        pool.worker.postMessage({ op: "close", id, ack: true })
      })
    }
  }
}

/**
 * How many slots a hash session may hold at a worker before it waits. One that writes the file
 * waits at a quarter: its slots carry plaintext too, and fewer keep its worker as busy. Measured on
 * the CLI's 1 GiB download, peak RSS: 114.5 and 114.8 MiB with a quarter, 115.0 to 116.6 with half,
 * 118.2 with all (113.2 writing on the libuv pool); the library's MB/s did not change measurably.
 */
const slotsOf = (slots: number, file: PlaintextFile | undefined): number =>
  file === undefined ? slots : Math.max(1, Math.floor(slots / 4))

/** A session of one blob on `pool`. */
const makeSession = (
  pool: PoolWorker,
  keys: MediaKeys.MediaKeys,
  direction: Hashing.Direction,
  slots: number,
  slotSize: number,
  file: PlaintextFile | undefined
): HashSession & { readonly close: () => Promise<void> | void } => {
  // AES-CBC decryption is parallel and fast (1.4 to 2 GB/s here, a SHA-256 pass about 1.7 GB/s), so a
  // decrypting thread has room for the plaintext's hash and the worker takes the two over the
  // ciphertext; encryption is serial (about 600 MB/s), so all three go to the worker.
  // With a file, the plaintext goes to the worker anyway, which then hashes it too.
  const plainHash = direction === "decrypt" && file === undefined ? createHash("sha256") : undefined
  // Where the next plaintext byte goes in the file.
  let position = file?.position ?? 0
  const bound = slotsOf(slots, file)
  // A slot is split between what the worker hashes: halves for both texts, all of it for the
  // ciphertext alone (a half left empty would double the posts for the same bytes).
  const plainRoom = plainHash === undefined ? slotSize / 2 : 0
  const cipherRoom = slotSize - plainRoom
  const free: Array<ArrayBuffer> = []
  let current: Uint8Array | undefined = undefined
  let plainFilled = 0
  let cipherFilled = 0
  let inFlight = 0
  let waiting: ReturnType<typeof deferred<void>> | undefined = undefined
  let ending: ReturnType<typeof deferred<Digests>> | undefined = undefined
  let failure: { readonly error: unknown } | undefined = undefined

  const { close, closeHandled, end, id } = register(pool, bound, {
    onMessage: (message) => {
      if ("writeFailed" in message) {
        const error = new Hashing.FileWriteFailure(
          Object.assign(new Error(message.writeFailed.message), { code: message.writeFailed.code })
        )
        failure = { error }
        waiting?.reject(error)
        ending?.reject(error)
      } else if ("slot" in message) {
        inFlight--
        // Every slot is kept for the next ones: an update larger than the free slots makes more
        // (`ready` only waits between updates), and dropping them made the allocator and the
        // collector churn at every update. So a session holds at most `slots` slots plus one
        // update's worth (a 512 KiB file chunk: 8 more encrypting, 4 decrypting), for as long as
        // its transfer runs.
        free.push(message.slot)
        if (waiting !== undefined && inFlight < bound) {
          waiting.resolve()
          waiting = undefined
        }
      } else if ("digests" in message) {
        end()
        ending?.resolve(message.digests)
      }
    },
    onFailure: (error) => {
      failure = { error }
      waiting?.reject(error)
      ending?.reject(error)
    }
  })
  // Copies: a view's whole buffer would be cloned, and the keys share one.
  pool.worker.postMessage({ op: "open", id, macKey: Redacted.value(keys.macKey).slice(), iv: keys.iv.slice() })

  const post = () => {
    const slot = current!.buffer as ArrayBuffer
    pool.worker.postMessage({
      op: "update",
      id,
      slot,
      plain: plainFilled,
      cipherAt: plainRoom,
      cipher: cipherFilled,
      fd: file?.fd,
      position
    }, [slot])
    position += plainFilled
    inFlight++
    current = undefined
  }

  const update = (given: Uint8Array, ciphertext: Uint8Array): void => {
    if (failure !== undefined) return
    let plaintext = given
    if (plainHash !== undefined) {
      if (given.length > 0) plainHash.update(given)
      plaintext = empty
    }
    let p = 0
    let c = 0
    while (p < plaintext.length || c < ciphertext.length) {
      if (current === undefined) {
        current = new Uint8Array(free.pop() ?? new ArrayBuffer(slotSize))
        plainFilled = 0
        cipherFilled = 0
      }
      const np = Math.min(plainRoom - plainFilled, plaintext.length - p)
      if (np > 0) {
        current.set(plaintext.subarray(p, p + np), plainFilled)
        plainFilled += np
        p += np
      }
      const nc = Math.min(cipherRoom - cipherFilled, ciphertext.length - c)
      if (nc > 0) {
        current.set(ciphertext.subarray(c, c + nc), plainRoom + cipherFilled)
        cipherFilled += nc
        c += nc
      }
      if ((plainRoom > 0 && plainFilled === plainRoom) || cipherFilled === cipherRoom) post()
    }
  }

  const ready = (): Promise<void> | undefined => {
    if (failure !== undefined) return rejected(failure.error)
    if (inFlight < bound) return undefined
    waiting ??= deferred<void>()
    return waiting.promise
  }

  const final = (given: Uint8Array, ciphertext: Uint8Array, mac: Uint8Array | undefined) => {
    if (failure !== undefined) return rejected(failure.error)
    let plaintext = given
    if (plainHash !== undefined) {
      plainHash.update(given)
      plaintext = empty
    }
    if (current !== undefined && (plainFilled > 0 || cipherFilled > 0)) post()
    ending = deferred<Digests>()
    pool.worker.postMessage({
      op: "final",
      id,
      plain: plaintext.slice(),
      cipher: ciphertext.slice(),
      mac: mac?.slice(),
      fd: file?.fd,
      position
    })
    position += plaintext.length
    return plainHash === undefined
      ? ending.promise
      : ending.promise.then((digests) => ({ ...digests, fileSha256: new Uint8Array(plainHash.digest()) }))
  }

  return { update, ready, final, writesFile: file !== undefined, close: file === undefined ? close : closeHandled }
}

/**
 * Chunks of one cipher session that may be at its worker at once: the calling thread reads the
 * next ones while the worker encrypts.
 */
const CIPHER_AHEAD = 3

/**
 * A cipher session of one blob on `pool`: each chunk's buffer goes to the worker and comes back
 * with its ciphertext written over it.
 */
const makeCipherSession = (
  pool: PoolWorker,
  keys: MediaKeys.MediaKeys,
  slots: number
): CipherSession & { readonly close: () => void } => {
  // The worker answers in order, so the answers settle the oldest pending chunk first.
  const pending: Array<ReturnType<typeof deferred<Uint8Array>>> = []
  let ending: ReturnType<typeof deferred<Uint8Array>> | undefined = undefined
  let failure: { readonly error: unknown } | undefined = undefined

  const { close, end, id } = register(pool, slots, {
    onMessage: (message) => {
      if ("ciphertext" in message) {
        pending.shift()?.resolve(new Uint8Array(message.ciphertext, 0, message.length))
      } else if ("last" in message) {
        end()
        ending?.resolve(message.last)
      }
    },
    onFailure: (error) => {
      failure = { error }
      for (const chunk of pending.splice(0)) chunk.reject(error)
      ending?.reject(error)
    }
  })
  // Copies: a view's whole buffer would be cloned, and the keys share one.
  pool.worker.postMessage({ op: "cipher", id, cipherKey: Redacted.value(keys.cipherKey).slice(), iv: keys.iv.slice() })

  const update = (input: ArrayBuffer, length: number): Promise<Uint8Array> => {
    if (failure !== undefined) return rejected(failure.error)
    const answer = deferred<Uint8Array>()
    pending.push(answer)
    pool.worker.postMessage({ op: "encrypt", id, input, length }, [input])
    return answer.promise
  }

  const final = (): Promise<Uint8Array> => {
    if (failure !== undefined) return rejected(failure.error)
    ending = deferred<Uint8Array>()
    pool.worker.postMessage({ op: "encryptFinal", id })
    return ending.promise
  }

  return { ahead: CIPHER_AHEAD, update, final, close }
}

/** How a pool opens hash and cipher sessions. */
export interface Pool {
  readonly openHashes: Hashing.OpenSession
  readonly openCipher: CipherSessions.OpenCipher
}

/**
 * A pool (started lazily, stopped with the scope) and the ways to open sessions on it: inline for
 * a blob known to be small, or when the pool has no worker.
 */
export const make = (options: Options = {}): Effect.Effect<Pool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const workers = Math.max(0, Math.floor(options.workers ?? availableParallelism() - 1))
    const threshold = options.threshold ?? DEFAULT_THRESHOLD
    const fileThreshold = Math.min(threshold, options.fileThreshold ?? DEFAULT_FILE_THRESHOLD)
    const slots = Math.max(1, options.slots ?? DEFAULT_SLOTS)
    const sessions = Math.max(1, options.sessions ?? DEFAULT_SESSIONS)
    const retain = options.retainFreedMemory ?? true
    // Even, so that the two halves are equal.
    const slotSize = Math.max(64, 2 * Math.ceil((options.slotSize ?? DEFAULT_SLOT_SIZE) / 2))
    // BUNDLERS: `hashWorker.js` (src/internal/hashWorker.js, a separate entry point) must sit beside
    // the file holding this code; without it every hash runs inline (see hashWorker.js).
    const url = options.workerUrl ?? new URL("./hashWorker.js", import.meta.url)
    let started: Promise<ReadonlyArray<PoolWorker>> | undefined = undefined
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        closed = true
        const running = started === undefined ? [] : await started
        await Promise.all(running.map((pool) => pool.worker.terminate()))
      })
    )
    const start = () =>
      started ??= Promise.all(Array.from({ length: workers }, () => startWorker(url))).then((all) =>
        all.filter((pool): pool is PoolWorker => pool !== undefined)
      )
    // Only when the session is opened, not when its effect is built.
    const retainFreedMemory = retain ? Effect.sync(HeapRetention.retainFreedMemory) : Effect.void
    // What a worker takes at once: `sessions` sessions of `slots` slots each. A session that writes
    // a file holds a quarter of them, so four such sessions take the room of one.
    const room = sessions * slots
    /**
     * A session of a blob of `size` bytes that may hold `cost` slots, on the least loaded worker; or
     * `onCaller`'s when the blob is below `from` bytes or no worker has room for it.
     */
    const open = <S>(
      size: number | undefined,
      from: number,
      cost: number,
      onCaller: () => S,
      onWorker: (pool: PoolWorker) => S & { readonly close: () => Promise<void> | void }
    ): Effect.Effect<S, never, Scope.Scope> => {
      if (size !== undefined && size < from) return Effect.sync(onCaller)
      if (workers === 0) return Effect.zipRight(retainFreedMemory, Effect.sync(onCaller))
      return Effect.flatMap(Effect.zipRight(retainFreedMemory, Effect.promise(start)), (running) => {
        let pool: PoolWorker | undefined = undefined
        let load = 0
        for (const candidate of running) {
          const candidateLoad = loadOf(candidate)
          if (!candidate.failed && (pool === undefined || candidateLoad < load)) {
            pool = candidate
            load = candidateLoad
          }
        }
        // A full pool runs the session on the calling thread, which is then no slower than a queue
        // at a worker.
        if (pool === undefined || closed || load + cost > room) return Effect.sync(onCaller)
        const chosen = pool
        return Effect.acquireRelease(Effect.sync(() => onWorker(chosen)), (session) =>
          Effect.suspend(() => {
            const closing = session.close()
            return closing === undefined ? Effect.void : Effect.promise(() => closing)
          }))
      })
    }
    return {
      // A download to a file goes to a worker from a smaller size: its worker writes the file too,
      // which saves the calling thread a round trip to libuv's pool per write. Measured on bursts of
      // 800 MiB to files, 16 downloads at a time, in fresh processes, against the writes on libuv's
      // pool: files of 4 MiB 217–258 MB/s against 125–214, of 3 MiB 225–229 against 173–204; of 2
      // MiB even (141–153 against 121–167), of 1 MiB slower (110–124 against 144–150).
      openHashes: (keys, size, direction, file) =>
        open(
          size,
          file === undefined ? threshold : fileThreshold,
          slotsOf(slots, file),
          () => Hashing.inline(keys),
          (pool) => makeSession(pool, keys, direction, slots, slotSize, file)
        ),
      openCipher: (keys, size) =>
        open(
          size,
          threshold,
          slots,
          () => CipherSessions.inline(keys),
          (pool) => makeCipherSession(pool, keys, slots)
        )
    }
  })
