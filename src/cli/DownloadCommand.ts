/**
 * `wa-media download`: fetches, verifies and writes a media file atomically, from a message JSON
 * file or raw parameters, over a media connection from a URL, a file, or hosts given directly.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { fileError } from "../internal/fileError.js"
import { refuseOutput } from "../internal/sameFile.js"
import * as MediaConn from "../MediaConn.js"
import * as MediaDownload from "../MediaDownload.js"
import type { MediaFileError } from "../MediaError.js"
import type * as MediaMessage from "../MediaMessage.js"
import { httpClientLayer, mediaConnSource } from "./CdnAccess.js"
import * as CliCrypto from "./CliCrypto.js"
import { UsageError } from "./CliExit.js"
import { decodeBase64, encodeBase64, parseMediaKey, parseMediaType } from "./CliOptions.js"
import type { DownloadArgs as Args } from "./Commands.js"
import * as ProgressBar from "./ProgressBar.js"

const DEFAULT_HOST = "mmg.whatsapp.net"

const readMessage = (path: string) =>
  Effect.gen(function*() {
    // A pasted message would be echoed by the "cannot read" error, media key included.
    if (path.trimStart().startsWith("{")) {
      return yield* new UsageError({
        message: "--message takes the path of a file holding the message JSON, not the JSON itself"
      })
    }
    const fs = yield* FileSystem.FileSystem
    const content = yield* Effect.mapError(fs.readFileString(path), fileError("Read", path))
    try {
      return JSON.parse(content) as unknown
    } catch {
      return yield* new UsageError({ message: `--message ${path} is not JSON` })
    }
  })

const source = (args: Args): Effect.Effect<MediaDownload.Source, UsageError | MediaFileError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    if (Option.isSome(args.message)) {
      if (Option.isSome(args.directPath) || Option.isSome(args.mediaKey)) {
        return yield* new UsageError({ message: "give either --message or the raw parameters, not both" })
      }
      return (yield* readMessage(args.message.value)) as MediaDownload.Source
    }
    if (Option.isNone(args.type) || Option.isNone(args.directPath) || Option.isNone(args.mediaKey)) {
      return yield* new UsageError({
        message: "give --message FILE, or --type, --direct-path, --media-key and --file-enc-sha256"
      })
    }
    if (Option.isNone(args.fileEncSha256)) {
      return yield* new UsageError({ message: "--file-enc-sha256 is required with raw parameters" })
    }
    const type = yield* parseMediaType(args.type.value)
    const params: MediaMessage.Params = {
      type,
      directPath: args.directPath.value,
      mediaKey: yield* parseMediaKey(args.mediaKey.value),
      fileEncSha256: yield* decodeBase64("file-enc-sha256", args.fileEncSha256.value),
      ...(Option.isSome(args.fileSha256)
        ? { fileSha256: yield* decodeBase64("file-sha256", args.fileSha256.value) }
        : {})
    }
    return params
  })

const mediaConnLayer = (
  args: Args
): Effect.Effect<Layer.Layer<MediaConn.MediaConn, never, HttpClient.HttpClient | FileSystem.FileSystem>, UsageError> =>
  Effect.gen(function*() {
    const fromSource = yield* mediaConnSource(args.mediaConnUrl, args.mediaConnFile)
    if (Option.isSome(fromSource)) {
      if (args.hosts.length > 0) {
        return yield* new UsageError({ message: "give at most one of --media-conn-url, --media-conn and --host" })
      }
      return fromSource.value
    }
    // Hosts given directly (or the default host): a fixed media connection without credentials.
    const hosts = args.hosts.length > 0 ? args.hosts : [DEFAULT_HOST]
    return MediaConn.layerTest({ auth: "", ttl: 3600, hosts: hosts.map((hostname) => ({ hostname })) })
  })

/** Runs `wa-media download`. */
export const download = (args: Args) =>
  Effect.gen(function*() {
    // The files the download reads must not be the one it writes, and the output must be writable:
    // checked before any file is read or any request is made.
    yield* refuseOutput([...Option.toArray(args.message), ...Option.toArray(args.mediaConnFile)], args.output)
    const input = yield* source(args)
    const connLayer = yield* mediaConnLayer(args)
    const media = yield* MediaDownload.resolve(input, {
      thumbnail: args.thumbnail,
      ...(Option.isSome(args.message) && Option.isSome(args.type) ? { type: args.type.value } : {})
    })
    const summary = yield* ProgressBar.track("", (progress) =>
      Effect.flatMap(
        MediaDownload.MediaDownload,
        (service) => service.toFile(media, args.output, { protocol: args.cdnProtocol, ...progress })
      )).pipe(
        Effect.provide(MediaDownload.layer.pipe(
          Layer.provide(connLayer),
          Layer.provide(httpClientLayer)
        ))
      )
    yield* Console.log(JSON.stringify({
      path: args.output,
      mediaType: media.mediaType,
      fileLength: summary.fileLength,
      ...(media.fileSha256 === undefined ? {} : { fileSha256: encodeBase64(media.fileSha256) }),
      host: summary.host,
      attempts: summary.attempts,
      resumes: summary.resumes
    }))
  }).pipe(Effect.provide(CliCrypto.layer))
