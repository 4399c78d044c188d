/**
 * docs/protocol.md section 7: encrypt and upload media to the CDN.
 *
 * A re-readable source (bytes, a file, a stream factory) is read twice: once to hash it for the URL
 * token, once encrypting straight into the request body, with an exact `Content-Length`, so the blob
 * never sits in memory or in a temp file. Only a one-shot stream is first spilled to a scoped temp
 * file, which is always removed. Blobs of 5 MiB and more are uploaded resumably. A 401 or 403
 * refreshes the media connection once and starts again from the first host; any other failure moves
 * to the next host, with a fresh body each time. The final error lists every attempt.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import type * as Stream from "effect/Stream"
import * as service from "./internal/uploadService.js"
import type { MediaConn } from "./MediaConn.js"
import type { MediaCrypto } from "./MediaCrypto.js"
import type { Attempt, InvalidMediaKey, MediaConnError, MediaFileError, MediaUploadError } from "./MediaError.js"
import { MediaMessageError } from "./MediaError.js"
import type * as MediaKeys from "./MediaKeys.js"
import type * as MediaMessage from "./MediaMessage.js"
import * as MediaType from "./MediaType.js"

// -----------------------------------------------------------------------------
// sources
// -----------------------------------------------------------------------------

/**
 * What to upload. `Bytes`, `File` and `Stream` (a factory that yields the same bytes each time it
 * is called) are read twice and never copied; a `OneShot` stream is read once, into a temp file.
 *
 * @since 0.1.0
 * @category sources
 */
export type UploadSource<E = never> =
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array }
  | { readonly _tag: "File"; readonly path: string }
  | { readonly _tag: "Stream"; readonly make: () => Stream.Stream<Uint8Array, E> }
  | { readonly _tag: "OneShot"; readonly stream: Stream.Stream<Uint8Array, E> }

/**
 * Bytes held in memory.
 *
 * @since 0.1.0
 * @category sources
 */
export const bytes = (bytes: Uint8Array): UploadSource => ({ _tag: "Bytes", bytes })

/**
 * A file, read from disk twice (no temp file). It must not change during the upload: if it does,
 * the upload fails with `MediaUploadError` `SourceChanged` before the CDN gets a complete body.
 *
 * @since 0.1.0
 * @category sources
 */
export const file = (path: string): UploadSource => ({ _tag: "File", path })

/**
 * A re-readable stream: `make` is called for each pass and each try, and must yield the same bytes
 * every time.
 *
 * @since 0.1.0
 * @category sources
 */
export const stream = <E>(make: () => Stream.Stream<Uint8Array, E>): UploadSource<E> => ({ _tag: "Stream", make })

/**
 * A stream that can be read only once: it is spilled to a temp file in the OS temp folder, removed
 * when the upload ends however it ends.
 *
 * @since 0.1.0
 * @category sources
 */
export const oneShot = <E>(stream: Stream.Stream<Uint8Array, E>): UploadSource<E> => ({ _tag: "OneShot", stream })

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Progress of the body of one try: blob bytes handed to the transport (counting a resumed offset as
 * done), the blob length, and the host.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  readonly bytes: number
  readonly total: number
  readonly host: string
}

/**
 * Options of an upload.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadOptions {
  readonly mediaType: MediaType.MediaType
  /** The 32-byte media key; a fresh one from `MediaCrypto` when absent. Never reuse one for two files. */
  readonly mediaKey?: MediaKeys.MediaKey | Uint8Array | undefined
  /** Whether to compute the streaming sidecar; by default for video and audio. */
  readonly sidecar?: boolean | undefined
  /** Called as the body goes out, at most every `progressInterval` and once at the end of each try. */
  readonly onProgress?: ((progress: Progress) => Effect.Effect<void>) | undefined
  /** The `mediaKeyTimestamp` of the result, Unix seconds; by default now, from Effect's `Clock`. */
  readonly mediaKeyTimestamp?: number | undefined
  /** `https` (the default), or `http` for a loopback emulator. */
  readonly protocol?: "https" | "http" | undefined
  /** How long a try may go without sending a byte or getting its answer. Default 30 seconds. */
  readonly stallTimeout?: Duration.DurationInput | undefined
  /** How long the whole upload (the wait for a turn, both passes, every try) may take. No limit by default. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Extra request headers (`Origin` is always `https://web.whatsapp.com`). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** How often `onProgress` may be called. Default 100 milliseconds. */
  readonly progressInterval?: Duration.DurationInput | undefined
  /**
   * Spaces (and may limit) the tries of the host failover: a `Schedule` fed with each failed try
   * (host, status, reason), e.g. exponential backoff with jitter for 429 and 5xx. The hosts of the
   * media connection bound the failover whatever it says. Default: the next host at once.
   */
  readonly retry?: Schedule.Schedule<unknown, Attempt> | undefined
}

/**
 * Defaults for every upload of a service, given when its layer is built (`layerWith`,
 * `layerConfig`); the options of a call override them field by field.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions
  extends Pick<UploadOptions, "protocol" | "stallTimeout" | "deadline" | "headers" | "progressInterval" | "retry">
{
  /**
   * How many uploads of the service run at once; the next ones wait for a turn before they read
   * their source (a `deadline` counts the wait). Default 16, or `"unbounded"`.
   *
   * Small uploads (below 1 MiB: bytes by their length, a file by its size) have as many turns of
   * their own, so a sticker never waits behind large videos; a stream's size is not known before it
   * is read, so it counts as large.
   *
   * Measured with 200 uploads of a 4 MiB file to a loopback server on two cores: all at once grew
   * the RSS by 567 MB, 16 at a time by 151 MB, and moved 8% more MB/s.
   */
  readonly concurrency?: number | "unbounded" | undefined
}

/**
 * An uploaded blob: what the CDN answered and what a media message needs (docs/protocol.md section 7).
 * It is assignable to `MediaMessage.UploadedMedia`, so it goes straight into the message builders.
 * For `product-catalog-image`, which is sent as plaintext, `mediaKey` is not used by the blob and
 * `fileEncSha256` equals `fileSha256`.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadResult {
  readonly mediaType: MediaType.MediaType
  readonly url: string
  readonly directPath: string
  readonly handle?: string | undefined
  readonly objectId?: string | undefined
  readonly mediaKey: MediaKeys.MediaKey
  readonly fileSha256: Uint8Array
  readonly fileEncSha256: Uint8Array
  readonly fileLength: number
  /** Unix seconds. */
  readonly mediaKeyTimestamp: number
  readonly streamingSidecar?: Uint8Array | undefined
}

/**
 * Every way an upload fails: for good at the CDN (`MediaUploadError`), no media connection
 * (`MediaConnError`), a bad media key, or a file source that cannot be read.
 *
 * @since 0.1.0
 * @category errors
 */
export type UploadError = MediaUploadError | MediaConnError | InvalidMediaKey | MediaFileError

// -----------------------------------------------------------------------------
// service
// -----------------------------------------------------------------------------

/**
 * The upload service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaMessage, MediaUpload } from "effect-wa-media"
 *
 * const program = Effect.gen(function*() {
 *   const uploads = yield* MediaUpload.MediaUpload
 *   const uploaded = yield* uploads.upload(MediaUpload.file("clip.mp4"), { mediaType: "video" })
 *   return yield* MediaMessage.video(uploaded, { mimetype: "video/mp4" })
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class MediaUpload extends Context.Tag("effect-wa-media/MediaUpload")<MediaUpload, {
  readonly upload: <E = never>(
    source: UploadSource<E>,
    options: UploadOptions
  ) => Effect.Effect<UploadResult, UploadError | E>
}>() {}

/**
 * Builds the service over the `HttpClient`, `MediaConn`, `MediaCrypto` and `FileSystem` of the
 * context, with defaults for every upload.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWith: (defaults: LayerOptions) => Effect.Effect<
  MediaUpload["Type"],
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto | FileSystem.FileSystem
> = service.makeWith

/**
 * Builds the service over the `HttpClient`, `MediaConn`, `MediaCrypto` and `FileSystem` of the
 * context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  MediaUpload["Type"],
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto | FileSystem.FileSystem
> = makeWith({})

/**
 * The service as a layer.
 *
 * @example
 * ```ts
 * import { NodeContext, NodeHttpClient } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { MediaConn, MediaCrypto, MediaUpload } from "effect-wa-media"
 *
 * const UploadLive = MediaUpload.layer.pipe(
 *   Layer.provide(MediaConn.layerUrl("http://127.0.0.1:4100/media_conn")),
 *   Layer.provide([NodeHttpClient.layerUndici, NodeContext.layer, MediaCrypto.layer])
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  MediaUpload,
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto | FileSystem.FileSystem
> = Layer.effect(MediaUpload, make)

/**
 * The service as a layer, with defaults for every upload (a call's own options override them).
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { MediaUpload } from "effect-wa-media"
 *
 * // Against a loopback emulator, with backoff between hosts.
 * const uploads = MediaUpload.layerWith({
 *   protocol: "http",
 *   stallTimeout: "10 seconds",
 *   retry: Schedule.exponential("200 millis").pipe(Schedule.jittered)
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: LayerOptions): Layer.Layer<
  MediaUpload,
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto | FileSystem.FileSystem
> => Layer.effect(MediaUpload, makeWith(options))

/**
 * The service as a layer, with defaults read from `Config` (e.g. `Config.literal("https", "http")("CDN_PROTOCOL")`
 * or `Config.duration("CDN_STALL_TIMEOUT")`); a failing config fails the layer with its `ConfigError`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { MediaUpload } from "effect-wa-media"
 *
 * const uploads = MediaUpload.layerConfig({
 *   protocol: Config.literal("https", "http")("CDN_PROTOCOL").pipe(Config.withDefault("https" as const)),
 *   stallTimeout: Config.duration("CDN_STALL_TIMEOUT").pipe(Config.withDefault("30 seconds"))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (config: Config.Config.Wrap<LayerOptions>): Layer.Layer<
  MediaUpload,
  ConfigError.ConfigError,
  HttpClient.HttpClient | MediaConn | MediaCrypto | FileSystem.FileSystem
> => Layer.unwrapEffect(Effect.map(Config.unwrap(config), layerWith))

// -----------------------------------------------------------------------------
// server-hosted thumbnails
// -----------------------------------------------------------------------------

/**
 * Uploads the server-hosted thumbnail of an uploaded image, video or document: encrypted with the
 * parent's media key under the parent's `*-thumbnail` type (`image-thumbnail`, `video-thumbnail`,
 * `document-thumbnail`; docs/protocol.md section 1), which derives other keys than the parent's, so
 * sharing the key is safe. The result goes to the `serverThumbnail` option of the `MediaMessage`
 * builders, which fills `thumbnailDirectPath`, `thumbnailSha256` and `thumbnailEncSha256`. A parent
 * of another type is a `MediaMessageError` (`InvalidField`) before anything is sent.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaMessage, MediaUpload } from "effect-wa-media"
 *
 * const sendWithThumbnail = (photo: Uint8Array, preview: Uint8Array) =>
 *   Effect.gen(function*() {
 *     const uploads = yield* MediaUpload.MediaUpload
 *     const uploaded = yield* uploads.upload(MediaUpload.bytes(photo), { mediaType: "image" })
 *     const serverThumbnail = yield* MediaUpload.uploadThumbnail(uploaded, MediaUpload.bytes(preview))
 *     return yield* MediaMessage.image(uploaded, { jpegThumbnail: preview, serverThumbnail })
 *   })
 * ```
 *
 * @since 0.1.0
 * @category server-hosted thumbnails
 */
export const uploadThumbnail = <E = never>(
  parent: MediaMessage.UploadedMedia,
  thumbnail: UploadSource<E>,
  options: Omit<UploadOptions, "mediaType" | "mediaKey" | "sidecar"> = {}
): Effect.Effect<UploadResult, UploadError | MediaMessageError | E, MediaUpload> =>
  Effect.gen(function*() {
    const mediaType = MediaType.thumbnailType(parent.mediaType)
    if (mediaType === undefined) {
      return yield* new MediaMessageError({
        reason: "InvalidField",
        detail: `${parent.mediaType} media has no server-hosted thumbnail (only image, video and document)`
      })
    }
    const uploads = yield* MediaUpload
    return yield* uploads.upload(thumbnail, { ...options, mediaType, mediaKey: parent.mediaKey, sidecar: false })
  })
