/**
 * docs/protocol.md section 6: downloading WhatsApp media with every byte verified, in constant memory,
 * through expired credentials, dead hosts and dropped connections.
 *
 * A download tries the message's own https `url` first, then every host of the media connection in
 * order (`MediaConn.hostOrder`); a channel's `staticUrl` is used alone. 401, 403, 404 and 410 make
 * it refresh the media connection once and start again from the first of the new hosts; 5xx, 429,
 * transport errors, stalls and integrity failures move on to the next host. A body that breaks
 * part-way resumes from its last received byte with `Range` (the same host once more, then the
 * next ones), keeping the decryption and hash state, so no byte is fetched twice.
 *
 * Expired media: when a `MediaRetry` service is in the context of the layer and a download still
 * ends `NotFound` or `Expired` after the credential refresh, the sender's phone is asked once to
 * upload it again (the message key comes from a `WebMessageInfo` source or `Options.messageKey`),
 * and the download starts over from the fresh `directPath` with the same key and checks. The new
 * path reaches the caller through `Options.onReupload` and `Summary.reupload`; a failure lists the
 * phone's answer among the attempts. Without a `MediaRetry` service nothing of this happens.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import type * as Sink from "effect/Sink"
import type * as Stream from "effect/Stream"
import type { Writable } from "node:stream"
import * as service from "./internal/downloadService.js"
import type { MediaConn } from "./MediaConn.js"
import type { MediaCrypto } from "./MediaCrypto.js"
import type {
  Attempt,
  InvalidMediaKey,
  MediaConnError,
  MediaDownloadError,
  MediaFileError,
  MediaIntegrityError,
  MediaMessageError,
  UnknownMediaType
} from "./MediaError.js"
import type * as MediaMessage from "./MediaMessage.js"
import type * as MediaType from "./MediaType.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * What to download: a message object of docs/protocol.md section 8 as protobuf.js types and gives it
 * (`proto.IWebMessageInfo`, `proto.IMessage`, `null`/`undefined` included, or an inner message
 * such as `proto.Message.IImageMessage` with `Options.type`), an app-state `ExternalBlobReference`,
 * a `MediaMessage.Downloadable`, or raw `MediaMessage.Params`. Every value is checked when read;
 * a value of unknown shape (parsed JSON) goes through `MediaMessage.downloadable` first.
 *
 * @since 0.1.0
 * @category models
 */
export type Source =
  | MediaMessage.Downloadable
  | MediaMessage.Params
  | MediaMessage.MessageInput

/**
 * Progress of a download: blob bytes received and kept so far, the blob length when known, and
 * the host the bytes come from (never a credential).
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  /** Blob bytes received and kept so far (a restart starts again from 0). */
  readonly bytes: number
  /** The blob length, when the message or the server told it. */
  readonly total: number | undefined
  /** The host the bytes are coming from (never a credential). */
  readonly host: string
}

/**
 * Expired media that the sender's phone uploaded again during a download (see `MediaRetry`): its
 * new `directPath`, and the source with that path to keep in place of the old one (a message is
 * copied with `MediaMessage.withDirectPath`; a `Downloadable` or raw parameters become the
 * `Downloadable` at the new path). Key, hashes and length stay as they were.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reupload {
  readonly directPath: string
  readonly source: Source
}

/**
 * What a finished download did: the host that served it, the plaintext and blob lengths, how
 * many requests, resumes (`Range` continuations) and clean restarts it took, and the
 * {@link Reupload} when the media had expired and was uploaded again.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  /** The host the last (successful) bytes came from. */
  readonly host: string
  /** Plaintext bytes delivered. */
  readonly fileLength: number
  /** Blob bytes of the verified blob. */
  readonly blobLength: number
  /** Requests made, the successful one included. */
  readonly attempts: number
  /** Requests that continued a broken body with `Range`. */
  readonly resumes: number
  /** Clean restarts from byte 0 after bytes had arrived (an ignored `Range`, an integrity failure). */
  readonly restarts: number
  readonly reupload?: Reupload | undefined
}

/**
 * Options of a download. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * A host that sends no byte for this long is given up (next host, resuming). Default 30 seconds.
   * Only time spent waiting for the body counts: an output or a stream's reader that takes longer
   * with the bytes before is not a stall.
   */
  readonly stallTimeout?: Duration.DurationInput | undefined
  /** The whole download fails with `MediaDownloadError` `DeadlineExceeded` after this long. */
  readonly deadline?: Duration.DurationInput | undefined
  /** `http` is for loopback emulators only. Default `https`. */
  readonly protocol?: "https" | "http" | undefined
  /** Extra request headers (`Origin` is always `https://web.whatsapp.com`). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Called with the progress at most once per `progressInterval` (measured with Effect's `Clock`),
   * and once more at the end. To observe progress as a value, set a `SubscriptionRef` here.
   */
  readonly onProgress?: ((progress: Progress) => Effect.Effect<void>) | undefined
  /** Default 100 milliseconds. */
  readonly progressInterval?: Duration.DurationInput | undefined
  /**
   * Spaces (and may limit) the tries of the host failover: a `Schedule` fed with each failed try
   * (host, status, reason), e.g. exponential backoff with jitter for 429 and 5xx. The hosts of the
   * media connection bound the failover whatever it says. Default: the next host at once.
   */
  readonly retry?: Schedule.Schedule<unknown, Attempt> | undefined
  /** Fetch the server-hosted thumbnail of an image, video, document or link preview message instead. */
  readonly thumbnail?: boolean | undefined
  /** The media type of an inner message given without its wrapper (a library name or an alias). */
  readonly type?: MediaType.MediaType | (string & {}) | undefined
  /**
   * The key of the message, for a source that does not carry it (a `WebMessageInfo` does): with a
   * `MediaRetry` service, expired media is then asked again from the sender's phone.
   */
  readonly messageKey?: MediaMessage.MessageKey | undefined
  /**
   * Called once the sender's phone uploaded expired media again, before the download from the new
   * path starts: persist `reupload.source` (or its `directPath`) here, whatever the download's end.
   */
  readonly onReupload?: ((reupload: Reupload) => Effect.Effect<void>) | undefined
}

/**
 * Defaults for every download of a service, given when its layer is built (`layerWith`,
 * `layerConfig`); the options of a call override them field by field.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions
  extends Pick<Options, "protocol" | "stallTimeout" | "deadline" | "headers" | "progressInterval" | "retry">
{
  /**
   * How many downloads of the service run at once; the next ones wait for a turn before they open
   * a file or send a request (a `deadline` counts the wait). Default 16.
   *
   * Small media (below 1 MiB by the message's `fileLength`, and every thumbnail) have as many
   * turns of their own, so a sticker never waits behind large videos that may run for minutes.
   * Media of unknown length counts as large.
   *
   * The more downloads run at once, the more each costs: all of them are kept in memory while the
   * process works through their bytes, and each body arrives in smaller pieces. Measured on a
   * burst of 200 downloads of 4 MiB from a loopback server (`npm run bench`'s, two cores), 16 at a
   * time moved 30% more MB/s to sinks and 40% more to files than all 200 at once, for 30% less CPU
   * and 15–30% less RSS growth. Over slow links, where each download mostly waits for the network,
   * more at once can pay.
   *
   * A download holds its turn until it ends; `stream` until the stream ends or its reader drops it
   * (a small media's stream only until it is downloaded, before its reader gets the bytes). A
   * reader that waits for another download of the same service while it holds a stream of large
   * media open can therefore wait for ever once every turn is taken: use a larger value, or
   * `"unbounded"`.
   */
  readonly concurrency?: number | "unbounded" | undefined
}

/**
 * Every error a download can end with (the file and writable targets add `MediaFileError`).
 *
 * @since 0.1.0
 * @category models
 */
export type DownloadError =
  | MediaDownloadError
  | MediaIntegrityError
  | MediaConnError
  | MediaMessageError
  | InvalidMediaKey
  | UnknownMediaType

// -----------------------------------------------------------------------------
// service
// -----------------------------------------------------------------------------

/**
 * The download service.
 *
 * - `bytes`: the verified plaintext in memory. When the server's blob has the length the message
 *   implies, the plaintext is kept in one array of that length as it comes, so the download peaks
 *   at about the media's size rather than twice it.
 * - `stream`: the plaintext as it arrives, in constant memory. The bytes are unverified until the
 *   stream ends: a failed check fails the stream at its end, so write them somewhere that can be
 *   thrown away. A restart after bytes were emitted (a server ignoring `Range`, a failed check)
 *   is impossible: the stream fails instead of emitting a byte twice. Small media (a blob of up to
 *   256 KiB, and every thumbnail) are the exception: the stream downloads them whole and emits
 *   only plaintext that passed every check, which also lets it start over.
 * - `toFile`: the plaintext to a file, written atomically: the file appears, complete and verified,
 *   only on success; nothing is left behind after a failure or an interruption.
 * - `toSink`: runs `stream` into a `Sink`.
 * - `toWritable`: writes the plaintext to a Node `Writable` as it arrives, respecting its
 *   backpressure, and ends it on success. The writable receives unverified bytes; on failure it is
 *   destroyed with the error.
 *
 * `stream` (and so `toSink`) reads and decrypts the body in its reader's own pulls, so no
 * plaintext waits between two fibers; `toFile`, `toWritable` and `bytes` write from the download's
 * fiber. With many downloads at once, `toWritable` still costs a little less than `toSink`
 * (`npm run bench` measures both on a burst of 200 downloads).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaDownload } from "effect-wa-media"
 *
 * // `message`: a protobuf.js message as Baileys gives it (`proto.IWebMessageInfo`, `proto.IMessage`, …)
 * const program = (message: MediaDownload.Source) =>
 *   Effect.gen(function*() {
 *     const download = yield* MediaDownload.MediaDownload
 *     const summary = yield* download.toFile(message, "photo.jpg")
 *     const thumbnail = yield* download.bytes(message, { thumbnail: true })
 *   })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class MediaDownload extends Context.Tag("effect-wa-media/MediaDownload")<MediaDownload, {
  readonly bytes: (source: Source, options?: Options) => Effect.Effect<Uint8Array, DownloadError>
  readonly stream: (source: Source, options?: Options) => Stream.Stream<Uint8Array, DownloadError>
  readonly toFile: (
    source: Source,
    path: string,
    options?: Options
  ) => Effect.Effect<Summary, DownloadError | MediaFileError>
  readonly toSink: <A, L, E, R>(
    source: Source,
    sink: Sink.Sink<A, Uint8Array, L, E, R>,
    options?: Options
  ) => Effect.Effect<A, DownloadError | E, R>
  readonly toWritable: (
    source: Source,
    writable: Writable,
    options?: Options & { readonly end?: boolean | undefined }
  ) => Effect.Effect<Summary, DownloadError | MediaFileError>
}>() {}

// -----------------------------------------------------------------------------
// sources
// -----------------------------------------------------------------------------

/**
 * Reads what a {@link Source} asks to download: its `MediaMessage.Downloadable`, or that of its
 * server-hosted thumbnail with `{ thumbnail: true }`.
 *
 * @since 0.1.0
 * @category sources
 */
export const resolve: (
  source: Source,
  options?: Pick<Options, "thumbnail" | "type">
) => Effect.Effect<MediaMessage.Downloadable, MediaMessageError | InvalidMediaKey | UnknownMediaType> = service.resolve

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * Builds the service over the `HttpClient`, `MediaConn` and `MediaCrypto` of the context, with
 * defaults for every download.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWith: (defaults: LayerOptions) => Effect.Effect<
  MediaDownload["Type"],
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto
> = service.makeWith

/**
 * Builds the service over the `HttpClient`, `MediaConn` and `MediaCrypto` of the context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  MediaDownload["Type"],
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto
> = makeWith({})

/**
 * The service as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<MediaDownload, never, HttpClient.HttpClient | MediaConn | MediaCrypto> = Layer
  .effect(MediaDownload, make)

/**
 * The service as a layer, with defaults for every download (a call's own options override them).
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { MediaDownload } from "effect-wa-media"
 *
 * // Against a loopback emulator; 429 and 5xx answers back off before the next host.
 * const downloads = MediaDownload.layerWith({
 *   protocol: "http",
 *   stallTimeout: "10 seconds",
 *   retry: Schedule.exponential("200 millis").pipe(
 *     Schedule.jittered,
 *     Schedule.whileInput((attempt) => attempt.status === 429 || (attempt.status ?? 0) >= 500)
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: LayerOptions
): Layer.Layer<MediaDownload, never, HttpClient.HttpClient | MediaConn | MediaCrypto> =>
  Layer.effect(MediaDownload, makeWith(options))

/**
 * The service as a layer, with defaults read from `Config`; a failing config fails the layer with
 * its `ConfigError`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { MediaDownload } from "effect-wa-media"
 *
 * const downloads = MediaDownload.layerConfig({
 *   protocol: Config.literal("https", "http")("CDN_PROTOCOL").pipe(Config.withDefault("https" as const)),
 *   deadline: Config.duration("CDN_DEADLINE").pipe(Config.withDefault("5 minutes"))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<LayerOptions>
): Layer.Layer<MediaDownload, ConfigError.ConfigError, HttpClient.HttpClient | MediaConn | MediaCrypto> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layerWith))
