/**
 * Where the hashes of a transformation run when its caller did not say: the `MediaCrypto` of the
 * context (with `MediaCrypto.layer`, its worker pool for large media), the calling thread without
 * one. `MediaFile` and the `Stream` forms of `MediaEncryptor` and `MediaDecryptor` ask here.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { MediaCrypto } from "../MediaCrypto.js"
import * as Hashing from "./hashing.js"

export const fromContext: Effect.Effect<Hashing.OpenSession> = Effect.map(
  Effect.serviceOption(MediaCrypto),
  Option.match({ onNone: () => Hashing.openInline, onSome: (crypto) => crypto.openHashes })
)
