/**
 * The crypto backend of the library: random media keys and other randomness, and where the hashes
 * of a transfer run. The live layer draws from `node:crypto`'s CSPRNG and hashes large media on a
 * pool of `worker_threads` workers, so that AES-CBC and the three SHA-256 passes of a transfer take
 * two cores; `layerInline` hashes on the calling thread; the test layer is deterministic so that
 * tests can assert exact blobs.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { createHash, randomBytes as nodeRandomBytes } from "node:crypto"
import * as CipherSessions from "./internal/cipherSession.js"
import * as Hashing from "./internal/hashing.js"
import * as HashPool from "./internal/hashPool.js"
import type { MediaKey, MediaKeys } from "./MediaKeys.js"
import { MEDIA_KEY_LENGTH } from "./MediaKeys.js"

/**
 * The hashes of one blob: SHA-256 of the plaintext, the MAC and SHA-256 of the blob, fed by the
 * encryptor or decryptor as its cipher runs. `final` may answer later (a worker); until it did,
 * nothing of the blob is verified.
 *
 * @since 0.1.0
 * @category models
 */
export interface HashSession {
  /** Hashes the next plaintext and ciphertext bytes; neither is retained after the call. */
  readonly update: (plaintext: Uint8Array, ciphertext: Uint8Array) => void
  /**
   * `undefined` when `update` may be called again at once; otherwise a promise that settles when
   * it may (the session's buffers are all in flight), so a transfer never holds more than them.
   */
  readonly ready: () => Promise<void> | undefined
  /** Ends the blob; `mac` is the received MAC (decryption) or `undefined` (encryption). */
  readonly final: (
    plaintext: Uint8Array,
    ciphertext: Uint8Array,
    mac: Uint8Array | undefined
  ) => Digests | Promise<Digests>
  /**
   * Whether the session also writes the plaintext it is given to the {@link PlaintextFile} it was
   * opened with, in order, each byte before `final` answers. Only the worker pool's sessions do;
   * a session without it leaves the writing to its caller.
   */
  readonly writesFile?: boolean | undefined
}

/**
 * An open file that a decrypting session may write the plaintext to, from `position` on, where
 * the hashes run (`MediaCrypto.layer`'s worker). A download to a file offers it, so that the
 * calling thread neither copies the plaintext into write buffers nor waits on the libuv pool for
 * each write. A session that writes it keeps the file in use until its scope closes.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlaintextFile {
  /** The file's descriptor, open for writing. */
  readonly fd: number
  /** Where the plaintext's first byte goes. */
  readonly position: number
}

/**
 * The AES-256-CBC encryption of one blob whose hashes are already known (an upload's second pass,
 * which sends the blob that the first pass hashed): the calling thread reads and sends while the
 * cipher runs where the session runs it.
 *
 * @since 0.1.0
 * @category models
 */
export interface CipherSession {
  /**
   * How many chunks may wait for their ciphertext at once: 1 when the cipher runs on the calling
   * thread (each answer is there at once), more when it runs on a worker, so that reading the next
   * chunks overlaps the cipher.
   */
  readonly ahead: number
  /**
   * Encrypts the next chunk, the first `length` bytes of `input`, and answers with its ciphertext
   * written over them. `input` must hold `length + 16` bytes (CBC may release a block held from the
   * chunk before) and is the session's from then on: it may be moved to a worker, and comes back
   * as the ciphertext's buffer, fresh for whoever takes it.
   */
  readonly update: (input: ArrayBuffer, length: number) => Uint8Array | Promise<Uint8Array>
  /** Ends the blob: the padded last block(s). */
  readonly final: () => Uint8Array | Promise<Uint8Array>
}

/**
 * What a {@link HashSession} ends with.
 *
 * @since 0.1.0
 * @category models
 */
export interface Digests {
  /** SHA-256 of the plaintext. */
  readonly fileSha256: Uint8Array
  /** SHA-256 of the blob: the ciphertext, then the received MAC (decryption) or the computed one (encryption). */
  readonly fileEncSha256: Uint8Array
  /** The computed MAC (10 bytes). */
  readonly mac: Uint8Array
}

/**
 * Options of the worker pool of {@link layerWith}. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface PoolOptions {
  /** How many workers. Default: one per spare core (`os.availableParallelism() - 1`); 0 hashes inline. */
  readonly workers?: number | undefined
  /** Media known to be smaller than this many bytes hashes inline, where a hand-off costs more. Default 8 MiB. */
  readonly threshold?: number | undefined
  /**
   * The same for a download to a file, whose worker then writes the file too (never above
   * `threshold`). Default 3 MiB.
   */
  readonly fileThreshold?: number | undefined
  /**
   * How many buffers one transfer may have at a worker before it waits. Default 16: with 128 KiB
   * buffers, 1 MiB of plaintext and ciphertext when encrypting (2 MiB of ciphertext when
   * decrypting), room for two 512 KiB file chunks or more, so that the cipher of one chunk overlaps
   * the hashes of the one before. A session that writes a download's file waits at a quarter.
   */
  readonly slots?: number | undefined
  /**
   * The size of each of those buffers: half plaintext and half ciphertext when encrypting, all
   * ciphertext when decrypting (the decrypting thread hashes the plaintext). Default 128 KiB.
   */
  readonly slotSize?: number | undefined
  /**
   * How many transfers one worker takes at once; the next ones hash inline until one ends, which
   * bounds what waits at the workers (`workers * sessions * slots * slotSize` bytes). A download
   * that its worker writes to a file counts as a quarter of one: it waits at a quarter of the slots.
   * Default 4.
   */
  readonly sessions?: number | undefined
  /**
   * Whether the first large transfer makes glibc keep freed memory in the process (up to 64 MiB
   * per allocator arena) rather than return it to the kernel after every collection and fault it
   * in again: a transfer frees its buffers in batches of tens of MB, and re-faulting them cost an
   * upload about a third of its speed. Default true; it changes nothing under other allocators.
   */
  readonly retainFreedMemory?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class MediaCrypto extends Context.Tag("effect-wa-media/MediaCrypto")<MediaCrypto, {
  /** A fresh random media key. One key must never encrypt two different files of one type. */
  readonly generateMediaKey: Effect.Effect<MediaKey>
  /** `n` random bytes. */
  readonly randomBytes: (n: number) => Effect.Effect<Uint8Array>
  /**
   * Opens the hashes of one blob of `size` bytes (`undefined` when unknown) under `keys`, fed by an
   * encryptor or a decryptor; the session is closed with the scope. A decryptor may offer `file`,
   * which the session writes the plaintext to when it says so (`HashSession.writesFile`).
   */
  readonly openHashes: (
    keys: MediaKeys,
    size: number | undefined,
    direction: "encrypt" | "decrypt",
    file?: PlaintextFile | undefined
  ) => Effect.Effect<HashSession, never, Scope.Scope>
  /**
   * Opens the cipher of one blob of `size` bytes (`undefined` when unknown) under `keys`, whose
   * hashes are known already; closed with the scope.
   */
  readonly openCipher: (keys: MediaKeys, size: number | undefined) => Effect.Effect<CipherSession, never, Scope.Scope>
}>() {}

/**
 * Builds the service from a function that returns `n` random bytes; the hashes and the cipher run
 * inline unless `backend` says otherwise.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromRandomBytes = (
  random: (n: number) => Uint8Array,
  backend: Partial<Pick<MediaCrypto["Type"], "openHashes" | "openCipher">> = {}
): MediaCrypto["Type"] =>
  MediaCrypto.of({
    generateMediaKey: Effect.sync(() => Redacted.make(random(MEDIA_KEY_LENGTH))),
    randomBytes: (n) => Effect.sync(() => random(n)),
    openHashes: backend.openHashes ?? Hashing.openInline,
    openCipher: backend.openCipher ?? CipherSessions.openInline
  })

const nodeRandom = (n: number) => new Uint8Array(nodeRandomBytes(n))

/**
 * The service over `node:crypto`, with the hashes of large media on a worker pool that starts with
 * the first such transfer and stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: PoolOptions = {}): Effect.Effect<MediaCrypto["Type"], never, Scope.Scope> =>
  Effect.map(HashPool.make(options), (pool) => fromRandomBytes(nodeRandom, pool))

/**
 * Randomness from `node:crypto`; the hashes of large media on a worker pool with the default
 * {@link PoolOptions}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<MediaCrypto> = Layer.scoped(MediaCrypto, make())

/**
 * {@link layer} with its worker pool configured.
 *
 * @example
 * ```ts
 * import { MediaCrypto } from "effect-wa-media"
 *
 * // Two hash workers, used from 1 MiB up.
 * const CryptoLive = MediaCrypto.layerWith({ workers: 2, threshold: 1024 * 1024 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: PoolOptions): Layer.Layer<MediaCrypto> => Layer.scoped(MediaCrypto, make(options))

/**
 * Randomness from `node:crypto`, every hash on the calling thread (no worker).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerInline: Layer.Layer<MediaCrypto> = Layer.succeed(MediaCrypto, fromRandomBytes(nodeRandom))

/**
 * Deterministic "randomness" for tests: SHA-256 in counter mode over a seed, so a given seed always
 * yields the same keys in the same order. Hashes run inline.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (seed = "effect-wa-media"): Layer.Layer<MediaCrypto> =>
  Layer.sync(MediaCrypto, () => {
    let counter = 0
    return fromRandomBytes((n) => {
      const out = new Uint8Array(n)
      for (let offset = 0; offset < n; offset += 32) {
        const block = createHash("sha256").update(seed).update(String(counter++)).digest()
        out.set(block.subarray(0, Math.min(32, n - offset)), offset)
      }
      return out
    })
  })
