/**
 * `wa-media upload`: encrypts a file and uploads it (resumably from 5 MiB), with the media
 * connection from a URL or a file; prints the result as one JSON line.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as MediaType from "../MediaType.js"
import * as MediaUpload from "../MediaUpload.js"
import { httpClientLayer, mediaConnSource } from "./CdnAccess.js"
import * as CliCrypto from "./CliCrypto.js"
import { UsageError } from "./CliExit.js"
import { encodeBase64, parseMediaKey, parseMediaType, revealBase64 } from "./CliOptions.js"
import type { UploadArgs } from "./Commands.js"
import * as ProgressBar from "./ProgressBar.js"

/** `--media-conn-url URL` or `--media-conn FILE`, exactly one of them. */
const mediaConnLayer = (url: Option.Option<string>, file: Option.Option<string>) =>
  Effect.flatMap(
    mediaConnSource(url, file),
    Option.match({
      onNone: () => new UsageError({ message: "give one of --media-conn-url and --media-conn" }),
      onSome: Effect.succeed
    })
  )

/** Runs `wa-media upload`. */
export const upload = (args: UploadArgs) =>
  Effect.gen(function*() {
    const type = yield* parseMediaType(args.type)
    const connLayer = yield* mediaConnLayer(args.mediaConnUrl, args.mediaConnFile)
    const mediaKey = Option.isSome(args.mediaKey) ? yield* parseMediaKey(args.mediaKey.value) : undefined
    const result = yield* ProgressBar.track("", (progress) =>
      Effect.flatMap(MediaUpload.MediaUpload, (uploads) =>
        uploads.upload(MediaUpload.file(args.input), {
          mediaType: type,
          mediaKey,
          protocol: args.cdnProtocol,
          ...progress
        }))).pipe(
        Effect.provide(
          MediaUpload.layer.pipe(Layer.provide(connLayer), Layer.provideMerge(httpClientLayer))
        )
      )
    yield* Console.log(JSON.stringify({
      url: result.url,
      directPath: result.directPath,
      ...(result.handle === undefined ? {} : { handle: result.handle }),
      ...(result.objectId === undefined ? {} : { objectId: result.objectId }),
      // An unencrypted type (product-catalog-image) has no key that means anything.
      ...(MediaType.isEncrypted(type) ? { mediaKey: revealBase64(result.mediaKey) } : {}),
      fileSha256: encodeBase64(result.fileSha256),
      fileEncSha256: encodeBase64(result.fileEncSha256),
      fileLength: result.fileLength,
      mediaKeyTimestamp: result.mediaKeyTimestamp,
      ...(result.streamingSidecar === undefined ? {} : { streamingSidecar: encodeBase64(result.streamingSidecar) })
    }))
  }).pipe(Effect.provide(CliCrypto.layer))
