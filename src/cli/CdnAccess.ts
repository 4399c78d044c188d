/**
 * How the commands that talk to a CDN reach it: the media connection of `--media-conn-url` or
 * `--media-conn`, and the HTTP transport. Only those commands load this module (and `node:http`).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as MediaConn from "../MediaConn.js"
import { UsageError } from "./CliExit.js"

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

/**
 * The HTTP transport of the commands that talk to a CDN: Node's own `node:http`. The undici
 * package's transport would be half of the bundle, parsed at every start-up of every command.
 */
export const httpClientLayer: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layer
