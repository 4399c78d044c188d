/**
 * The source of media keys and other randomness. The live layer draws from `node:crypto`'s CSPRNG;
 * the test layer is deterministic so that tests can assert exact blobs.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes as nodeRandomBytes } from "node:crypto"
import type { MediaKey } from "./MediaKeys.js"
import { MEDIA_KEY_LENGTH } from "./MediaKeys.js"

/**
 * @since 0.1.0
 * @category tags
 */
export class MediaCrypto extends Context.Tag("effect-wa-media/MediaCrypto")<MediaCrypto, {
  /** A fresh random media key. One key must never encrypt two different files of one type. */
  readonly generateMediaKey: Effect.Effect<MediaKey>
  /** `n` random bytes. */
  readonly randomBytes: (n: number) => Effect.Effect<Uint8Array>
}>() {}

/**
 * Builds the service from a function that returns `n` random bytes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromRandomBytes = (random: (n: number) => Uint8Array): MediaCrypto["Type"] =>
  MediaCrypto.of({
    generateMediaKey: Effect.sync(() => Redacted.make(random(MEDIA_KEY_LENGTH))),
    randomBytes: (n) => Effect.sync(() => random(n))
  })

/**
 * Randomness from `node:crypto`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<MediaCrypto> = Layer.succeed(
  MediaCrypto,
  fromRandomBytes((n) => new Uint8Array(nodeRandomBytes(n)))
)

/**
 * Deterministic "randomness" for tests: SHA-256 in counter mode over a seed, so a given seed always
 * yields the same keys in the same order.
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
