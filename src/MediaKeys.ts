/**
 * docs/protocol.md section 2: a 32-byte media key expands with HKDF-SHA256 into the IV, the AES-256-CBC
 * cipher key, the HMAC-SHA256 MAC key and the (unused) ref key. Secret parts stay `Redacted`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { hkdfSync } from "node:crypto"
import { decodeStandard } from "./internal/base64.js"
import { InvalidMediaKey } from "./MediaError.js"
import * as MediaType from "./MediaType.js"

/**
 * The length of every media key.
 *
 * @since 0.1.0
 * @category constants
 */
export const MEDIA_KEY_LENGTH = 32

/**
 * A media key, redacted so that printing or logging it shows nothing.
 *
 * @since 0.1.0
 * @category models
 */
export type MediaKey = Redacted.Redacted<Uint8Array>

/**
 * The keys derived from a media key for one media type.
 *
 * @since 0.1.0
 * @category models
 */
export interface MediaKeys {
  readonly iv: Uint8Array
  readonly cipherKey: Redacted.Redacted<Uint8Array>
  readonly macKey: Redacted.Redacted<Uint8Array>
  readonly refKey: Redacted.Redacted<Uint8Array>
}

const zeroSalt = new Uint8Array(32)

/**
 * Checks that raw bytes are a media key and wraps them in `Redacted`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromBytes = (bytes: Uint8Array): Effect.Effect<MediaKey, InvalidMediaKey> =>
  bytes.length === MEDIA_KEY_LENGTH
    ? Effect.succeed(Redacted.make(bytes))
    : Effect.fail(new InvalidMediaKey({ length: bytes.length }))

/**
 * Reads a media key from standard base64 (as the command line and JSON messages carry it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromBase64 = (base64: string): Effect.Effect<MediaKey, InvalidMediaKey> =>
  Option.match(decodeStandard(base64), {
    onNone: () => Effect.fail(new InvalidMediaKey({ reason: "NotBase64", length: 0 })),
    onSome: fromBytes
  })

/**
 * HKDF-SHA256 with no salt (32 zero bytes), as both media keys and media retry keys use it.
 *
 * @since 0.1.0
 * @category derivation
 */
export const hkdf = (key: Uint8Array, info: string, length: number): Uint8Array =>
  new Uint8Array(hkdfSync("sha256", key, zeroSalt, info, length))

/**
 * Derives the IV, cipher key, MAC key and ref key of a media key for a media type. A key that is
 * not 32 bytes fails with `InvalidMediaKey`; a type that is never encrypted is a defect.
 *
 * @since 0.1.0
 * @category derivation
 */
export const derive = (
  mediaKey: MediaKey | Uint8Array,
  type: MediaType.MediaType
): Effect.Effect<MediaKeys, InvalidMediaKey> =>
  Effect.suspend(() => {
    const bytes = Redacted.isRedacted(mediaKey) ? Redacted.value(mediaKey) : mediaKey
    if (bytes.length !== MEDIA_KEY_LENGTH) return Effect.fail(new InvalidMediaKey({ length: bytes.length }))
    const info = MediaType.info(type).hkdfInfo
    if (info === undefined) return Effect.dieMessage(`media type ${type} is never encrypted`)
    const expanded = hkdf(bytes, info, 112)
    return Effect.succeed({
      iv: expanded.slice(0, 16),
      cipherKey: Redacted.make(expanded.slice(16, 48)),
      macKey: Redacted.make(expanded.slice(48, 80)),
      refKey: Redacted.make(expanded.slice(80, 112))
    })
  })
