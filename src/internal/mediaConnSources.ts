/**
 * Where a media connection comes from: a fixed value, a URL or a file holding the JSON form, or a
 * Baileys socket's `refreshMediaConn`. Each run of a source fetches afresh; the service caches.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import type { BaileysSocket, MediaConnJson, MediaConnReply, UrlOptions } from "../MediaConn.js"
import { MediaConnError } from "../MediaError.js"
import * as Model from "./mediaConnModel.js"

export const fromValue = (input: MediaConnReply | MediaConnJson): Effect.Effect<MediaConnReply, MediaConnError> => {
  const decoded = Redacted.isRedacted(input.auth) ? Either.right(input as MediaConnReply) : Model.decodeJson(input)
  return Effect.suspend(() => decoded)
}

// URLs in errors lose their query, fragment and user info, which may carry credentials.
const displayUrl = (url: string | URL): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return "the media connection URL"
  }
}

const httpFailure = (url: string | URL, shown: string) => (error: HttpClientError.HttpClientError) => {
  const description = error.description === undefined
    ? ""
    : ` (${error.description.split(String(url)).join(shown)})`
  return new MediaConnError({ reason: "SourceFailed", detail: `GET ${shown} failed: ${error.reason}${description}` })
}

export const fromUrl = (
  url: string | URL,
  options?: UrlOptions
): Effect.Effect<MediaConnReply, MediaConnError, HttpClient.HttpClient> => {
  const shown = displayUrl(url)
  const timeout = Duration.decode(options?.timeout ?? Duration.seconds(30))
  return Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url, { acceptJson: true })
    return yield* HttpClientResponse.matchStatus(response, {
      "2xx": (ok) => Effect.flatMap(ok.text, Model.decodeJsonString),
      orElse: (failed) =>
        new MediaConnError({ reason: "SourceFailed", detail: `GET ${shown} answered ${failed.status}` })
    })
  }).pipe(
    Effect.catchTags({ RequestError: httpFailure(url, shown), ResponseError: httpFailure(url, shown) }),
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new MediaConnError({
          reason: "SourceFailed",
          detail: `GET ${shown} took longer than ${Duration.format(timeout)}`
        })
    }),
    Effect.withSpan("MediaConn.fromUrl", { attributes: { url: shown } })
  )
}

export const fromFile = (path: string): Effect.Effect<MediaConnReply, MediaConnError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) =>
        new MediaConnError({
          reason: "SourceFailed",
          detail: `cannot read ${path}: ${error._tag === "SystemError" ? error.reason : error._tag}`
        })
      )
    )
    return yield* Model.decodeJsonString(text)
  }).pipe(Effect.withSpan("MediaConn.fromFile", { attributes: { path } }))

export const fromBaileys = (socket: BaileysSocket): Effect.Effect<MediaConnReply, MediaConnError> =>
  Effect.tryPromise({
    try: () => socket.refreshMediaConn(true),
    catch: (error) =>
      new MediaConnError({
        reason: "SourceFailed",
        detail: `refreshMediaConn failed: ${error instanceof Error ? error.message : "unknown error"}`
      })
  }).pipe(
    Effect.flatMap((info) =>
      Predicate.isObject(info) && Array.isArray(info.hosts)
        ? Model.decodeJson({
          auth: info.auth,
          ttl: info.ttl,
          hosts: info.hosts.map((host) => ({
            hostname: Predicate.hasProperty(host, "hostname") ? host.hostname : undefined
          }))
        })
        : Either.left(Model.malformed("refreshMediaConn resolved to something else than a media connection"))
    ),
    Effect.withSpan("MediaConn.fromBaileys")
  )
