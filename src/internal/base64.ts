/**
 * Strict base64 reading for every byte value the library takes as text, on `effect/Encoding`: an
 * invalid character, a misplaced `=` or an impossible length is `None`, never silently skipped as
 * Node's `Buffer.from(text, "base64")` would. The decoder's own error is dropped on purpose: it
 * quotes its input, which may be a media key.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"

/** Standard base64 with padding, as the command line and JSON messages carry bytes. @internal */
export const decodeStandard = (text: string): Option.Option<Uint8Array> =>
  /[\r\n]/.test(text) ? Option.none() : Either.getRight(Encoding.decodeBase64(text))

/**
 * Standard or url-safe base64, padded or not (protobuf.js JSON, Baileys' `BufferJSON` and
 * hand-written messages use all of these), one alphabet at a time. @internal
 */
export const decodeAny = (text: string): Option.Option<Uint8Array> => {
  if (/[\r\n]/.test(text) || (/[+/]/.test(text) && /[-_]/.test(text))) return Option.none()
  const unpadded = text.replace(/={1,2}$/, "")
  // Padding, when present, must complete the last quantum exactly.
  if (unpadded.length !== text.length && (text.length % 4 !== 0 || unpadded.length === 0)) return Option.none()
  return Either.getRight(Encoding.decodeBase64Url(unpadded.replace(/\+/g, "-").replace(/\//g, "_")))
}
