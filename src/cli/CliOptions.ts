/**
 * The values of the `wa-media` options, read once a command runs: media types by library name or
 * alias, and byte values as standard base64.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { decodeStandard } from "../internal/base64.js"
import * as MediaKeys from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"
import { UsageError } from "./CliExit.js"

/** Standard base64 with padding, as INTERFACE.md fixes for every byte value. */
export const decodeBase64 = (name: string, value: string): Effect.Effect<Uint8Array, UsageError> =>
  Option.match(decodeStandard(value), {
    onNone: () => Effect.fail(new UsageError({ message: `--${name} is not standard base64` })),
    onSome: Effect.succeed
  })

export const encodeBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64")

const validTypes = `valid types: ${MediaType.names.join(", ")}; aliases: ${
  Object.entries(MediaType.aliases).map(([alias, type]) => `${alias} (${type})`).join(", ")
}`

/** Parses `--type` as a media type; an unknown name is bad usage, answered with the valid ones. */
export const parseMediaType = (name: string) =>
  MediaType.parse(name).pipe(
    Effect.mapError((error) => new UsageError({ message: `${error.message}; ${validTypes}` }))
  )

/** Reads `--media-key`: base64, 32 bytes, kept `Redacted` from here on. */
export const parseMediaKey = (value: string) =>
  decodeBase64("media-key", value).pipe(
    Effect.flatMap(MediaKeys.fromBytes),
    Effect.mapError((error) => error._tag === "UsageError" ? error : new UsageError({ message: error.message }))
  )

/** Prints a key for the user who asked for it (the JSON result line), never in an error. */
export const revealBase64 = (key: MediaKeys.MediaKey): string => encodeBase64(Redacted.value(key))
