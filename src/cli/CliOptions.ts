/**
 * Options shared by the `wa-media` commands: media types by library name or alias, and byte values
 * as standard base64.
 */
import * as Options from "@effect/cli/Options"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { decodeStandard } from "../internal/base64.js"
import * as MediaConn from "../MediaConn.js"
import * as MediaKeys from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"

/**
 * An argument that is not what the command expects: exit status 2.
 */
export class UsageError extends Schema.TaggedError<UsageError>("effect-wa-media/cli/UsageError")(
  "UsageError",
  { message: Schema.String }
) {}

/** Standard base64 with padding, as INTERFACE.md fixes for every byte value. */
export const decodeBase64 = (name: string, value: string): Effect.Effect<Uint8Array, UsageError> =>
  Option.match(decodeStandard(value), {
    onNone: () => Effect.fail(new UsageError({ message: `--${name} is not standard base64` })),
    onSome: Effect.succeed
  })

export const encodeBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64")

export const mediaType = Options.text("type").pipe(
  Options.withDescription("media type: a library name of PROTOCOL.md section 1 or an alias (ptt, ptv, gif)")
)

/** Parses `--type` as a media type; an unknown name is bad usage. */
export const parseMediaType = (name: string) =>
  MediaType.parse(name).pipe(
    Effect.mapError((error) => new UsageError({ message: error.message }))
  )

export const base64Bytes = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(`${description} (standard base64)`))

/** Reads `--media-key`: base64, 32 bytes, kept `Redacted` from here on. */
export const parseMediaKey = (value: string) =>
  decodeBase64("media-key", value).pipe(
    Effect.flatMap(MediaKeys.fromBytes),
    Effect.mapError((error) => error._tag === "UsageError" ? error : new UsageError({ message: error.message }))
  )

/** Prints a key for the user who asked for it (the JSON result line), never in an error. */
export const revealBase64 = (key: MediaKeys.MediaKey): string => encodeBase64(Redacted.value(key))

/** Where the media connection comes from: `--media-conn-url URL` or `--media-conn FILE`. */
export const mediaConnOptions = {
  mediaConnUrl: Options.text("media-conn-url").pipe(
    Options.withDescription("GET this URL for the media connection JSON (asked again on refresh)"),
    Options.optional
  ),
  mediaConnFile: Options.text("media-conn").pipe(
    Options.withDescription("read the media connection JSON from this file (read again on refresh)"),
    Options.optional
  )
}

/** `--cdn-protocol`: https, or http for loopback emulators. */
export const cdnProtocol = Options.choice("cdn-protocol", ["https", "http"]).pipe(
  Options.withDescription("the scheme of CDN URLs; http is for loopback emulators only"),
  Options.withDefault("https" as const)
)

/** The media connection layer of `--media-conn-url` or `--media-conn`; none when neither is given. */
export const mediaConnSource = (
  url: Option.Option<string>,
  file: Option.Option<string>
): Effect.Effect<
  Option.Option<Layer.Layer<MediaConn.MediaConn, never, HttpClient.HttpClient | FileSystem.FileSystem>>,
  UsageError
> => {
  if (Option.isSome(url) && Option.isSome(file)) {
    return Effect.fail(new UsageError({ message: "give at most one of --media-conn-url and --media-conn" }))
  }
  if (Option.isSome(url)) return Effect.succeed(Option.some(MediaConn.layerUrl(url.value)))
  if (Option.isSome(file)) return Effect.succeed(Option.some(MediaConn.layerFile(file.value)))
  return Effect.succeed(Option.none())
}
