/**
 * The hashes of an upload's first pass beside the cipher: SHA-256 of the plaintext, the MAC
 * (HMAC-SHA256 over iv || ciphertext) and SHA-256 of the blob. AES-CBC encryption is serial and
 * takes about as long as these three together, so for a large file they run on a `worker_threads`
 * worker while the calling thread reads and encrypts: the pass then goes at about the cipher's speed.
 *
 * Plaintext travels in a small pool of buffers that go to the worker and come back once hashed, so
 * the pass allocates no plaintext memory per block and the pool bounds what is in flight.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { createHash, createHmac } from "node:crypto"
import { Worker } from "node:worker_threads"
import type * as MediaKeys from "../MediaKeys.js"
import { MAC_LENGTH } from "./encryptor.js"

/** What the pass learns besides the cipher: the two hashes, and the MAC that ends the blob. */
export interface Digests {
  readonly fileSha256: Uint8Array
  readonly fileEncSha256: Uint8Array
  readonly mac: Uint8Array
}

/** @internal */
export interface BlockHasher {
  /** A buffer to read the next plaintext block into; waits while every buffer is being hashed. */
  readonly buffer: Effect.Effect<Uint8Array>
  /**
   * Hashes the first `length` bytes of `buffer` (from `buffer`) as plaintext and `cipher` as the
   * ciphertext it gave. `buffer` is handed over: the caller must not touch it afterwards.
   */
  readonly update: (buffer: Uint8Array, length: number, cipher: Uint8Array) => void
  /** Ends the blob with the last cipher bytes; the hasher is done after this. */
  readonly final: (last: Uint8Array) => Effect.Effect<Digests>
}

/** The three hashes, incrementally. Shared, as source text, by the inline hasher and the worker. */
const makeHashes = (
  crypto: { createHash: typeof createHash; createHmac: typeof createHmac },
  macKey: Uint8Array,
  iv: Uint8Array,
  macLength: number
) => {
  const plainHash = crypto.createHash("sha256")
  const blobHash = crypto.createHash("sha256")
  const hmac = crypto.createHmac("sha256", macKey).update(iv)
  return {
    update: (plain: Uint8Array, cipher: Uint8Array) => {
      plainHash.update(plain)
      hmac.update(cipher)
      blobHash.update(cipher)
    },
    final: (last: Uint8Array) => {
      hmac.update(last)
      const mac = hmac.digest().subarray(0, macLength)
      blobHash.update(last)
      blobHash.update(mac)
      return { fileSha256: plainHash.digest(), fileEncSha256: blobHash.digest(), mac }
    }
  }
}

const asDigests = (digests: ReturnType<ReturnType<typeof makeHashes>["final"]>): Digests => ({
  fileSha256: new Uint8Array(digests.fileSha256),
  fileEncSha256: new Uint8Array(digests.fileEncSha256),
  mac: new Uint8Array(digests.mac)
})

/** Hashes on the calling thread, with a single buffer reused for every block. */
export const makeInline = (keys: MediaKeys.MediaKeys, blockSize: number): BlockHasher => {
  const hashes = makeHashes({ createHash, createHmac }, Redacted.value(keys.macKey), keys.iv, MAC_LENGTH)
  const buffer = new Uint8Array(blockSize)
  return {
    buffer: Effect.succeed(buffer),
    update: (block, length, cipher) => hashes.update(block.subarray(0, length), cipher),
    final: (last) => Effect.sync(() => asDigests(hashes.final(last)))
  }
}

/**
 * The worker's program, as source text (the worker is started with `eval`, so it runs the same from
 * the sources and from the build). `makeHashes` is plain JavaScript, inlined by its text.
 */
const workerSource = `"use strict"
const { parentPort, workerData } = require("node:worker_threads")
const crypto = require("node:crypto")
const makeHashes = ${makeHashes.toString()}
const hashes = makeHashes(crypto, workerData.macKey, workerData.iv, workerData.macLength)
const blockSize = workerData.blockSize
parentPort.on("message", (message) => {
  if (message.last === undefined) {
    const slot = message.slot
    hashes.update(new Uint8Array(slot, 0, message.plain), new Uint8Array(slot, blockSize, message.cipher))
    parentPort.postMessage({ slot }, [slot])
  } else {
    parentPort.postMessage({ digests: hashes.final(message.last) })
  }
})
`

/** What the queues carry once the worker failed. */
class WorkerFailure {
  constructor(readonly error: unknown) {}
}

type FromWorker =
  | { readonly slot: ArrayBuffer; readonly digests?: undefined }
  | { readonly digests: ReturnType<ReturnType<typeof makeHashes>["final"]> }

/**
 * Hashes on a worker, with `poolSize` slots: each holds a plaintext block and a copy of its
 * ciphertext (a cipher's output up to 15 bytes longer than its input), goes to the worker and comes
 * back, so the worker allocates nothing per block. The worker is stopped when the scope closes. A
 * worker that fails is a defect: it runs nothing that can fail on valid input.
 */
export const makeWorker = (
  keys: MediaKeys.MediaKeys,
  blockSize: number,
  poolSize: number
): Effect.Effect<BlockHasher, never, Scope.Scope> =>
  Effect.gen(function*() {
    // A worker failure is offered to both queues, so that whoever waits on either dies with it
    // (no race per block, which would fork two fibers for every block).
    const free = yield* Queue.unbounded<Uint8Array | WorkerFailure>()
    const done = yield* Queue.bounded<Digests | WorkerFailure>(1)
    const worker = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Worker(workerSource, {
          eval: true,
          workerData: { macKey: Redacted.value(keys.macKey), iv: keys.iv, macLength: MAC_LENGTH, blockSize }
        })
      ),
      (worker) => Effect.promise(() => worker.terminate())
    )
    const slotSize = 2 * blockSize + 16
    worker.on("message", (message: FromWorker) => {
      if (message.digests === undefined) free.unsafeOffer(new Uint8Array(message.slot, 0, blockSize))
      else done.unsafeOffer(asDigests(message.digests))
    })
    worker.on("error", (error) => {
      const failure = new WorkerFailure(error)
      free.unsafeOffer(failure)
      done.unsafeOffer(failure)
    })
    for (let i = 0; i < poolSize; i++) free.unsafeOffer(new Uint8Array(new ArrayBuffer(slotSize), 0, blockSize))
    const orDie = <A>(taken: Effect.Effect<A | WorkerFailure>) =>
      Effect.flatMap(taken, (value) => value instanceof WorkerFailure ? Effect.die(value.error) : Effect.succeed(value))
    return {
      buffer: orDie(Queue.take(free)),
      update: (buffer, length, cipher) => {
        const slot = buffer.buffer
        // Only views of the pool's slots are handed out; anything else is a broken invariant.
        if (!(slot instanceof ArrayBuffer) || slot.byteLength !== slotSize || cipher.length > slotSize - blockSize) {
          throw new Error("BlockHasher.update: not a block of the pool")
        }
        new Uint8Array(slot, blockSize).set(cipher)
        worker.postMessage({ slot, plain: length, cipher: cipher.length }, [slot])
      },
      final: (last) => {
        worker.postMessage({ last })
        return orDie(Queue.take(done))
      }
    }
  })
