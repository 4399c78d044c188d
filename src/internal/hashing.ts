/**
 * Where the hashes of a transfer run: a `HashSession` takes the plaintext and ciphertext of one
 * blob as the cipher produces them and gives the digests at the end. The inline session hashes on
 * the calling thread; the worker pool's (`hashPool.ts`) copies the bytes into fixed slots that a
 * worker hashes, so the cipher and the hashes run on two cores. Sessions come from `MediaCrypto`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { HashSession, PlaintextFile } from "../MediaCrypto.js"
import type * as MediaKeys from "../MediaKeys.js"
import type * as MediaType from "../MediaType.js"
import { makeHashes } from "./mediaHashes.js"

/** A value now, or later. */
export type Later<A> = A | Promise<A>

/** Applies `f` to `value` now when it is there, else once it is. */
export const andThen = <A, B>(value: Later<A>, f: (a: A) => B): Later<B> =>
  value instanceof Promise ? value.then(f) : f(value)

/** Which state machine feeds a session: the balance of work between the cipher and the hashes differs. */
export type Direction = "encrypt" | "decrypt"

/**
 * Opens a session for one blob of `size` bytes (`undefined`: unknown) fed by `direction`; closed
 * with the scope.
 */
export type OpenSession = (
  keys: MediaKeys.MediaKeys,
  size: number | undefined,
  direction: Direction,
  file?: PlaintextFile | undefined
) => Effect.Effect<HashSession, never, Scope.Scope>

/**
 * How a session that writes the plaintext (`HashSession.writesFile`) fails when a write did:
 * `ready` and `final` reject with it, and the download turns it into the output's typed error.
 */
export class FileWriteFailure extends Error {
  constructor(readonly failure: unknown) {
    super("a write of the plaintext failed", { cause: failure })
  }
}

/** A session on the calling thread: every byte is hashed before `update` returns. */
export const inline = (keys: MediaKeys.MediaKeys): HashSession => {
  const hashes = makeHashes(Redacted.value(keys.macKey), keys.iv)
  return { update: hashes.update, ready: () => undefined, final: hashes.final }
}

/** Inline sessions for every blob. */
export const openInline: OpenSession = (keys) => Effect.sync(() => inline(keys))

/** A {@link Later} as an effect; a rejected promise (a worker that died) is a defect. */
export const toEffect = <A>(value: Later<A>): Effect.Effect<A> =>
  value instanceof Promise ? Effect.promise(() => value) : Effect.succeed(value)

/** What the encryptor and decryptor cores have in common. */
interface Core<F> {
  readonly mediaType: MediaType.MediaType
  readonly update: (chunk: Uint8Array) => Uint8Array
  readonly final: () => Later<F>
  readonly bytesIn: number
  readonly bytesOut: number
}

/**
 * A core over an inline session as the public, synchronous state machine (`MediaEncryptor`,
 * `MediaDecryptor`): its hashes all ran by the time `final` is called.
 */
export const synchronous = <F>(owner: string, core: Core<F>) => ({
  mediaType: core.mediaType,
  update: core.update,
  final: (): F => {
    const ended = core.final()
    // Only cores over an inline session get here.
    if (ended instanceof Promise) throw new Error(`${owner}: the hashes of a synchronous core ran elsewhere`)
    return ended
  },
  get bytesIn() {
    return core.bytesIn
  },
  get bytesOut() {
    return core.bytesOut
  }
})
