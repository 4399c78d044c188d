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
import * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Queue from "effect/Queue"
import type * as Schedule from "effect/Schedule"
import type * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as Take from "effect/Take"
import type { Writable } from "node:stream"
import * as CdnClient from "./internal/cdnClient.js"
import * as internal from "./internal/download.js"
import * as FileOutput from "./internal/fileOutput.js"
import { withOutcome } from "./internal/outcome.js"
import { withDefaults } from "./internal/transferOptions.js"
import { MediaConn } from "./MediaConn.js"
import { MediaCrypto } from "./MediaCrypto.js"
import type {
  Attempt,
  InvalidMediaKey,
  MediaConnError,
  MediaDownloadError,
  MediaIntegrityError,
  UnknownMediaType
} from "./MediaError.js"
import { MediaFileError, MediaMessageError } from "./MediaError.js"
import * as MediaMessage from "./MediaMessage.js"
import * as MediaRetry from "./MediaRetry.js"
import * as MediaType from "./MediaType.js"

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
  /** A host that sends no byte for this long is given up (next host, resuming). Default 30 seconds. */
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
  readonly messageKey?: MediaRetry.MessageKey | undefined
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
{}

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
 * - `bytes`: the verified plaintext in memory.
 * - `stream`: the plaintext as it arrives, in constant memory. The bytes are unverified until the
 *   stream ends: a failed check fails the stream at its end, so write them somewhere that can be
 *   thrown away. A restart after bytes were emitted (a server ignoring `Range`, a failed check)
 *   is impossible: the stream fails instead of emitting a byte twice.
 * - `toFile`: the plaintext to a file, written atomically: the file appears, complete and verified,
 *   only on success; nothing is left behind after a failure or an interruption.
 * - `toSink`: runs `stream` into a `Sink`.
 * - `toWritable`: writes `stream` to a Node `Writable`, respecting its backpressure, and ends it on
 *   success. The writable receives unverified bytes; on failure it is destroyed with the error.
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

const isDownloadable = (u: unknown): u is MediaMessage.Downloadable =>
  Predicate.isRecord(u) && typeof u.mediaType === "string" &&
  (MediaType.names as ReadonlyArray<string>).includes(u.mediaType)

const isParams = (u: unknown): u is MediaMessage.Params =>
  Predicate.isRecord(u) && typeof u.type === "string" && Option.isNone(MediaMessage.mediaKind(u))

const thumbnailTypeOf = (type: MediaType.MediaType): MediaType.MediaType | undefined =>
  type.endsWith("-thumbnail")
    ? type
    : MediaType.thumbnailType(type) ?? (type === "sticker-pack" ? "sticker-pack-thumbnail" : undefined)

/**
 * Reads what a {@link Source} asks to download: its `MediaMessage.Downloadable`, or that of its
 * server-hosted thumbnail with `{ thumbnail: true }`.
 *
 * @since 0.1.0
 * @category sources
 */
export const resolve = (
  source: Source,
  options: Pick<Options, "thumbnail" | "type"> = {}
): Effect.Effect<MediaMessage.Downloadable, MediaMessageError | InvalidMediaKey | UnknownMediaType> =>
  Effect.suspend(() => {
    if (isDownloadable(source)) {
      return options.thumbnail === true
        ? Effect.fail(
          new MediaMessageError({ reason: "NoMedia", detail: "a Downloadable has no server-hosted thumbnail" })
        )
        : Effect.succeed(source)
    }
    if (isParams(source)) {
      if (options.thumbnail !== true) return MediaMessage.fromParams(source)
      // Raw parameters with `thumbnail` name the thumbnail's own path and hashes.
      return Effect.flatMap(MediaType.parse(source.type), (type) => {
        const thumbnailType = thumbnailTypeOf(type)
        return thumbnailType === undefined
          ? Effect.fail(new MediaMessageError({ reason: "NoMedia", detail: `${type} media has no thumbnail` }))
          : MediaMessage.fromParams({ ...source, type: thumbnailType })
      })
    }
    const read = { type: options.type }
    return options.thumbnail === true
      ? MediaMessage.thumbnail(source, read)
      : MediaMessage.downloadable(source, read)
  })

// -----------------------------------------------------------------------------
// outputs
// -----------------------------------------------------------------------------

/** The least plaintext `stream` hands to its reader at once (all of it at the end). */
const STREAM_BATCH = 64 * 1024

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  let length = 0
  for (const chunk of chunks) length += chunk.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/**
 * Writes one chunk with backpressure. Not `NodeSink.fromWritable`: `@effect/platform-node` is an
 * optional peer (this entry runs where it is not installed), and a `Sink` is fed through a stream,
 * which costs a queue hand-off per batch that the download's own fiber does not need.
 */
const writeToNode = (writable: Writable, chunk: Uint8Array): Effect.Effect<void, Error> =>
  Effect.async<void, Error>((resume) => {
    if (writable.destroyed || writable.writableEnded) {
      return resume(Effect.fail(new Error("the writable is closed")))
    }
    if (writable.write(chunk)) return resume(Effect.void)
    const onDrain = () => {
      cleanup()
      resume(Effect.void)
    }
    const onClose = () => {
      cleanup()
      resume(Effect.fail(new Error("the writable closed before the download ended")))
    }
    const onError = (error: Error) => {
      cleanup()
      resume(Effect.fail(error))
    }
    const cleanup = () => {
      writable.off("drain", onDrain)
      writable.off("close", onClose)
      writable.off("error", onError)
    }
    writable.on("drain", onDrain)
    writable.on("close", onClose)
    writable.on("error", onError)
    return Effect.sync(cleanup)
  })

// -----------------------------------------------------------------------------
// re-upload of expired media
// -----------------------------------------------------------------------------

// The phone uploads message media again, not link previews, history or app state.
const isReuploadKind = (kind: MediaMessage.MediaKind): boolean =>
  kind !== "extendedTextMessage" && kind !== "historySyncNotification" && kind !== "externalBlobReference"

// What to ask the phone for a source, when it can be asked: encrypted media (not a thumbnail, not
// a channel's) of a message whose key is known.
const reuploadOf = (
  retry: MediaRetry.MediaRetry["Type"],
  source: Source,
  media: MediaMessage.Downloadable,
  options: Options,
  onSuccess: (reupload: Reupload) => Effect.Effect<void>
): Option.Option<internal.Reupload> => {
  const mediaKey = media.mediaKey
  if (options.thumbnail === true || mediaKey === undefined || media.staticUrl !== undefined) return Option.none()
  const record = Predicate.isRecord(source) ? source : undefined
  const key = options.messageKey ?? (Predicate.isRecord(record?.key) ? record.key as MediaRetry.MessageKey : undefined)
  if (key === undefined) return Option.none()
  const kind = MediaMessage.mediaKind(source)
  if (Option.isSome(kind) && !isReuploadKind(kind.value)) return Option.none()
  // A `WebMessageInfo` holds the message one level down; a `Downloadable` or parameters hold none.
  const message = Option.isNone(kind) ? undefined : Predicate.isRecord(record?.key) && record.message != null
    ? record.message
    : source
  const updated = (directPath: string): Source => {
    if (Option.isSome(kind)) return Option.getOrElse(MediaMessage.withDirectPath(source, directPath), () => source)
    const { url: _, ...kept } = media
    return { ...kept, directPath }
  }
  return Option.some({
    request: Effect.map(
      retry.reupload({ key, mediaKey, ...(message === undefined ? {} : { message }) }),
      (done) => done.directPath
    ),
    onSuccess: (directPath) => onSuccess({ directPath, source: updated(directPath) })
  })
}

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
export const makeWith = (defaults: LayerOptions): Effect.Effect<
  MediaDownload["Type"],
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto
> =>
  Effect.gen(function*() {
    const env: internal.Env = {
      client: CdnClient.make(yield* HttpClient.HttpClient),
      conn: yield* MediaConn,
      hashing: (yield* MediaCrypto).openHashes
    }

    const retry = yield* Effect.serviceOption(MediaRetry.MediaRetry)

    // The layer's defaults under each call's own options; with a `MediaRetry` service, a re-upload
    // of expired media when the source says which message it is.
    const run = <E>(
      source: Source,
      media: MediaMessage.Downloadable,
      output: internal.Output<E>,
      options: Options
    ): Effect.Effect<Summary, internal.DownloadErrors | E> =>
      Effect.suspend(() => {
        let reported: Reupload | undefined
        const reupload = Option.isNone(retry) ? undefined : Option.getOrUndefined(
          reuploadOf(retry.value, source, media, options, (done) =>
            Effect.suspend(() => {
              reported = done
              return options.onReupload?.(done) ?? Effect.void
            }))
        )
        return Effect.map(
          internal.run(env, media, output, withDefaults(defaults, options), reupload),
          ({ directPath: _, ...summary }): Summary =>
            reported === undefined ? summary : { ...summary, reupload: reported }
        )
      })

    const bytes = Effect.fn("MediaDownload.bytes")(function*(source: Source, options: Options = {}) {
      const media = yield* resolve(source, options)
      let chunks: Array<Uint8Array> = []
      yield* run(source, media, {
        write: (out) =>
          Effect.sync(() => {
            for (const chunk of out) chunks.push(chunk)
          }),
        reset: Effect.sync(() => {
          chunks = []
          return true
        })
      }, options)
      return concat(chunks)
    }, withOutcome)

    const stream = (source: Source, options: Options = {}): Stream.Stream<Uint8Array, DownloadError> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const media = yield* resolve(source, options)
        const queue = yield* Effect.acquireRelease(
          Queue.bounded<Take.Take<Uint8Array, DownloadError>>(4),
          Queue.shutdown
        )
        // Plaintext goes to the queue in batches of STREAM_BATCH bytes: every hand-over between the
        // download's fiber and the reader's costs far more than the bytes it carries.
        let batch: Array<Uint8Array> = []
        let batched = 0
        let emitted = false
        const handOver = Effect.suspend(() => {
          if (batch.length === 0) return Effect.void
          const chunk = Chunk.unsafeFromArray(batch)
          batch = []
          batched = 0
          emitted = true
          return Queue.offer(queue, Take.chunk(chunk))
        })
        const output: internal.Output<never> = {
          write: (out) =>
            Effect.suspend(() => {
              for (const piece of out) {
                batch.push(piece)
                batched += piece.length
              }
              return batched >= STREAM_BATCH ? handOver : Effect.void
            }),
          // Bytes that left cannot be taken back; the batch not handed over yet can.
          reset: Effect.sync(() => {
            if (emitted) return false
            batch = []
            batched = 0
            return true
          })
        }
        yield* run(source, media, output, options).pipe(
          withOutcome,
          Effect.exit,
          Effect.flatMap((exit) =>
            Exit.isSuccess(exit)
              ? Effect.zipRight(handOver, Queue.offer(queue, Take.end))
              : Queue.offer(queue, Take.failCause(exit.cause))
          ),
          Effect.forkScoped
        )
        return Stream.flattenTake(Stream.fromQueue(queue))
      })).pipe(Stream.withSpan("MediaDownload.stream"))

    const toFile = Effect.fn("MediaDownload.toFile")(function*(source: Source, path: string, options: Options = {}) {
      const media = yield* resolve(source, options)
      return yield* FileOutput.withFileOutput(
        path,
        (file) => run(source, media, { write: file.write, reset: Effect.as(file.reset, true) }, options)
      )
    }, withOutcome)

    const toSink = <A, L, E, R>(
      source: Source,
      sink: Sink.Sink<A, Uint8Array, L, E, R>,
      options: Options = {}
    ): Effect.Effect<A, DownloadError | E, R> =>
      Stream.run(stream(source, options), sink).pipe(withOutcome, Effect.withSpan("MediaDownload.toSink"))

    const toWritable = Effect.fn("MediaDownload.toWritable")(function*(
      source: Source,
      writable: Writable,
      options: Options & { readonly end?: boolean | undefined } = {}
    ) {
      const media = yield* resolve(source, options)
      let emitted = false
      const writeError = (error: Error) =>
        new MediaFileError({ reason: "Write", path: "writable", detail: error.message })
      const summary = yield* run(source, media, {
        write: (out) =>
          Effect.suspend(() => {
            emitted = true
            return Effect.mapError(
              Effect.forEach(out, (chunk) => writeToNode(writable, chunk), { discard: true }),
              writeError
            )
          }),
        reset: Effect.sync(() => !emitted)
      }, options).pipe(
        Effect.tapErrorCause((cause) =>
          Effect.sync(() => {
            if (writable.destroyed) return
            const error = Cause.squash(cause)
            writable.destroy(error instanceof Error ? error : new Error(String(error)))
          })
        )
      )
      if (options.end !== false) {
        yield* Effect.async<void>((resume) => {
          writable.end(() => resume(Effect.void))
        })
      }
      return summary
    }, withOutcome)

    return MediaDownload.of({ bytes, stream, toFile, toSink, toWritable })
  })

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
