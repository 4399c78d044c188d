/**
 * The `MediaUpload` service: the key and the first pass of each source, then the upload engine of
 * `upload.ts`, under the layer's defaults.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { flow } from "effect/Function"
import * as Redacted from "effect/Redacted"
import { MediaConn } from "../MediaConn.js"
import { MediaCrypto } from "../MediaCrypto.js"
import { type MediaFileError, MediaUploadError } from "../MediaError.js"
import * as MediaKeys from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"
import type { LayerOptions, MediaUpload, UploadOptions, UploadResult, UploadSource } from "../MediaUpload.js"
import * as CdnClient from "./cdnClient.js"
import * as Deadline from "./deadline.js"
import { withOutcome } from "./outcome.js"
import { withDefaults } from "./transferOptions.js"
import * as Turns from "./turns.js"
import * as internal from "./upload.js"

/** @internal */
export const makeWith = (defaults: LayerOptions): Effect.Effect<
  MediaUpload["Type"],
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto | FileSystem.FileSystem
> =>
  Effect.gen(function*() {
    const client = CdnClient.make(yield* HttpClient.HttpClient)
    const mediaConn = yield* MediaConn
    const crypto = yield* MediaCrypto
    const fs = yield* FileSystem.FileSystem
    const { concurrency, ...callDefaults } = defaults
    const turn = Turns.ofConcurrency(concurrency)

    const upload = Effect.fn("MediaUpload.upload")(function*<E>(source: UploadSource<E>, callOptions: UploadOptions) {
      const options = withDefaults(callDefaults, callOptions)
      const clock = yield* Effect.clock
      const started = clock.unsafeCurrentTimeMillis()
      // The deadline counts from the call: the wait for a turn and the first pass too.
      const deadline = Deadline.start(
        clock,
        options.deadline,
        () => new MediaUploadError({ reason: "DeadlineExceeded", attempts: [] })
      )
      const { mediaType } = options
      yield* Effect.annotateCurrentSpan("media.type", mediaType)
      const given = options.mediaKey
      const mediaKey = given === undefined
        ? yield* crypto.generateMediaKey
        : yield* MediaKeys.fromBytes(Redacted.isRedacted(given) ? Redacted.value(given) : given)
      const keys = MediaType.isEncrypted(mediaType) ? yield* MediaKeys.derive(mediaKey, mediaType) : undefined
      const encryption: internal.Encryption = {
        mediaType,
        mediaKey,
        keys,
        sidecar: keys !== undefined && (options.sidecar ?? MediaType.hasStreamingSidecar(mediaType)),
        hashes: crypto.openHashes,
        cipher: crypto.openCipher
      }

      // A source read once has no size before it is spilled; the others say theirs (a file from its
      // `stat`), which picks the upload's lane of turns. Nothing is read or opened before the turn.
      const prepared = source._tag === "OneShot"
        ? { stream: source.stream }
        : {
          reusable: source._tag === "Bytes"
            ? internal.bytesSource(source.bytes)
            : source._tag === "File"
            ? yield* deadline.bound(internal.fileSource(fs, source.path))
            : internal.streamSource(source.make)
        }
      yield* deadline.bound(turn("reusable" in prepared ? prepared.reusable.size : undefined))
      // The media connection is asked for while the first pass runs, so that its round trip (a query
      // on the WhatsApp socket, or an HTTP request) does not follow the pass. The failover asks again
      // and shares this fetch, or its cached result; a failed fetch is not cached, so a failure here
      // only means the failover's own fetch.
      yield* Effect.forkScoped(Effect.ignore(mediaConn.get))
      const { first, plaintext } = yield* deadline.bound(Effect.gen(function*() {
        if ("stream" in prepared) {
          // Readable once only: spilled to a scoped temp file, hashed as it is written.
          const spilled = yield* internal.spill(fs, prepared.stream, encryption)
          return { plaintext: yield* internal.fileSource(fs, spilled.path), first: spilled.first }
        }
        const plaintext: internal.Source<E | MediaFileError> = prepared.reusable
        return { plaintext, first: yield* internal.firstPass(plaintext, encryption) }
      }))

      yield* Effect.annotateCurrentSpan({
        "media.file_length": first.result.fileLength,
        "media.blob_length": first.blobLength
      })
      const uploaded = yield* internal.run({
        client,
        mediaConn,
        clock,
        mediaType,
        first,
        blob: () => internal.blobStream(plaintext, encryption, first),
        protocol: options.protocol ?? "https",
        stallTimeout: Duration.decode(options.stallTimeout ?? Duration.seconds(30)),
        onProgress: options.onProgress,
        progressInterval: Duration.toMillis(options.progressInterval ?? Duration.millis(100)),
        headers: options.headers,
        retry: options.retry
      }, deadline.left())

      const result = first.result
      return {
        mediaType,
        url: uploaded.url,
        directPath: uploaded.directPath,
        ...(uploaded.handle === undefined ? {} : { handle: uploaded.handle }),
        ...(uploaded.objectId === undefined ? {} : { objectId: uploaded.objectId }),
        mediaKey,
        fileSha256: result.fileSha256,
        fileEncSha256: result.fileEncSha256,
        fileLength: result.fileLength,
        mediaKeyTimestamp: options.mediaKeyTimestamp ?? Math.floor(started / 1000),
        ...(result.streamingSidecar === undefined ? {} : { streamingSidecar: result.streamingSidecar })
      } satisfies UploadResult
    }, flow(Effect.scoped, withOutcome))

    return { upload }
  })
