/**
 * The `MediaDownload` service: what a source asks for, the five outputs over the engine of
 * `download.ts`, and the re-upload of expired media when a `MediaRetry` service is provided.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as Take from "effect/Take"
import type { Writable } from "node:stream"
import { MediaConn } from "../MediaConn.js"
import { MediaCrypto } from "../MediaCrypto.js"
import type {
  DownloadError,
  LayerOptions,
  MediaDownload,
  Options,
  Reupload,
  Source,
  Summary
} from "../MediaDownload.js"
import type { InvalidMediaKey, UnknownMediaType } from "../MediaError.js"
import { MediaDownloadError, MediaFileError, MediaMessageError } from "../MediaError.js"
import * as MediaMessage from "../MediaMessage.js"
import * as MediaRetry from "../MediaRetry.js"
import * as MediaType from "../MediaType.js"
import type * as Body from "./body.js"
import * as CdnClient from "./cdnClient.js"
import * as Deadline from "./deadline.js"
import * as internal from "./download.js"
import * as FileOutput from "./fileOutput.js"
import { thumbnailOf } from "./messageRead.js"
import { withOutcome } from "./outcome.js"
import * as PlaintextBytes from "./plaintextBytes.js"
import { withDefaults } from "./transferOptions.js"
import * as Turns from "./turns.js"

// -----------------------------------------------------------------------------
// sources
// -----------------------------------------------------------------------------

const isDownloadable = (u: unknown): u is MediaMessage.Downloadable =>
  Predicate.isRecord(u) && typeof u.mediaType === "string" &&
  (MediaType.names as ReadonlyArray<string>).includes(u.mediaType)

const isParams = (u: unknown): u is MediaMessage.Params =>
  Predicate.isRecord(u) && typeof u.type === "string" && Option.isNone(MediaMessage.mediaKind(u))

/** @internal */
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
        const thumbnailType = thumbnailOf(type)
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

/**
 * Writes one chunk with backpressure. Not `NodeSink.fromWritable`: `@effect/platform-node` is an
 * optional peer (this entry runs where it is not installed); a `Sink` is fed through a stream,
 * which costs a queue hand-off per batch that the download's own fiber does not need; and on the
 * Effect 3 line it does not wait for `drain` after the last write of a chunk (see `drainSafe` in
 * upload.ts), which would let a slow writable buffer the whole download.
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

/**
 * Up to this blob length, `stream` (and so `toSink`) downloads the media whole before its reader
 * gets any of it: no second fiber, no queue, and only plaintext that passed every check. The
 * reader's fiber and its hand-offs cost about 1 ms of CPU per download, as much as the rest of a
 * small download. Measured with 1,500 downloads to sinks from a loopback server, 16 at a time, in
 * three alternating rounds: media of 16 KiB 1.9–2.5 ms of CPU per download against 2.7–3.7 ms
 * through the reader's pulls; of 256 KiB about 15% less. Above it, a download would hold more
 * than the 256 KiB a transfer keeps in flight.
 */
const COLLECTED_STREAM = 256 * 1024

/**
 * The blob length a download expects, when its message tells it; a thumbnail, whose parameters may
 * not, is small whatever they say (0).
 */
const sizeOf = (media: MediaMessage.Downloadable, options: Options): number | undefined =>
  options.thumbnail === true ? 0 : internal.expectedBlobLength(media)

/** What the download hands `stream`'s reader: bytes, or a body to read and say how it ended. */
type Handed = Chunk.Chunk<Uint8Array> | {
  readonly plaintext: Body.Plaintext
  readonly done: Deferred.Deferred<void, Body.BodyBreak>
}

/** A body as the reader's stream; the download hears how it ended, a break included. */
const readBody = (
  { done, plaintext }: Exclude<Handed, Chunk.Chunk<Uint8Array>>
): Stream.Stream<Uint8Array> =>
  Stream.concat(
    Stream.catchAll(plaintext, (broke) => Stream.execute(Deferred.fail(done, broke))),
    Stream.execute(Deferred.succeed(done, undefined))
  )

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
  const key = options.messageKey ??
    (Predicate.isRecord(record?.key) ? record.key as MediaMessage.MessageKey : undefined)
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

/** @internal */
export const makeWith = (defaults: LayerOptions): Effect.Effect<
  MediaDownload["Type"],
  never,
  HttpClient.HttpClient | MediaConn | MediaCrypto
> =>
  Effect.gen(function*() {
    const { concurrency, ...callDefaults } = defaults
    const env: internal.Env = {
      client: CdnClient.make(yield* HttpClient.HttpClient),
      conn: yield* MediaConn,
      hashing: (yield* MediaCrypto).openHashes
    }
    const turn = Turns.ofConcurrency(concurrency)

    /**
     * Waits for a turn of the service in the media's lane (small media, a thumbnail included, have
     * turns of their own), held until the scope closes; before it, a download opens no file and no
     * request. A deadline counts the wait: it fails the download while it waits, and the options
     * returned carry what is left of it.
     */
    const takeTurn = (
      media: MediaMessage.Downloadable,
      options: Options
    ): Effect.Effect<Options, MediaDownloadError, Scope.Scope> =>
      Effect.flatMap(Effect.clock, (clock) => {
        const deadline = Deadline.start(
          clock,
          withDefaults(callDefaults, options).deadline,
          () => new MediaDownloadError({ reason: "DeadlineExceeded", attempts: [] })
        )
        return Effect.map(deadline.bound(turn(sizeOf(media, options))), () => {
          const left = deadline.left()
          return left === undefined ? options : { ...options, deadline: left }
        })
      })

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
          internal.run(env, media, output, withDefaults(callDefaults, options), reupload),
          ({ directPath: _, ...summary }): Summary =>
            reported === undefined ? summary : { ...summary, reupload: reported }
        )
      })

    /** Downloads media into memory: its plaintext, every check passed. */
    const collect = (
      source: Source,
      media: MediaMessage.Downloadable,
      options: Options
    ): Effect.Effect<Uint8Array, DownloadError> =>
      Effect.suspend(() => {
        const plaintext = PlaintextBytes.make()
        return Effect.map(
          run(source, media, {
            write: (out) => Effect.sync(() => plaintext.write(out)),
            reset: Effect.sync(() => {
              plaintext.reset()
              return true
            }),
            expect: plaintext.expect
          }, options),
          plaintext.result
        )
      })

    const bytes = Effect.fn("MediaDownload.bytes")(
      function*(source: Source, callOptions: Options = {}) {
        const media = yield* resolve(source, callOptions)
        const options = yield* takeTurn(media, callOptions)
        return yield* collect(source, media, options)
      },
      Effect.scoped,
      withOutcome
    )

    // The span is made once and given to the download's fiber. `Stream.withSpan` would provide it
    // to every step of the reader's pulls too: on the bench's burst of 200 downloads to sinks, that
    // cost 0.35–0.5 s of a main thread at 4.8–5.4 s, and 6–9% of the MB/s.
    const stream = (source: Source, options: Options = {}): Stream.Stream<Uint8Array, DownloadError> =>
      Stream.unwrapScoped(Effect.flatMap(
        // Its stack would only name this module (`toSink`'s too); capturing it cost about 7 µs.
        Effect.makeSpanScoped("MediaDownload.stream", { captureStackTrace: false }),
        (span) => Effect.withParentSpan(startStream(source, options), span)
      ))

    const startStream = (source: Source, callOptions: Options) =>
      Effect.gen(function*() {
        const media = yield* resolve(source, callOptions)
        const size = sizeOf(media, callOptions)
        if (size !== undefined && size <= COLLECTED_STREAM) {
          // Downloaded and checked before the reader gets any of it, by the stream's own fiber, which
          // gives its turn back before the reader gets the bytes.
          const plaintext = yield* Effect.scoped(
            Effect.flatMap(takeTurn(media, callOptions), (options) => withOutcome(collect(source, media, options)))
          )
          return plaintext.length === 0 ? Stream.empty : Stream.make(plaintext)
        }
        // The stream holds its turn until it ends or its reader drops it.
        const options = yield* takeTurn(media, callOptions)
        // The download runs in a fiber of its own and hands the reader each attempt's body, which
        // the reader's pulls read and decrypt (body.ts), and the few bytes around a body as chunks.
        const queue = yield* Effect.acquireRelease(
          Queue.bounded<Take.Take<Handed, DownloadError>>(1),
          Queue.shutdown
        )
        // Bytes written (around a body) have left; so have a body's, which the engine tracks.
        let emitted = false
        const output: internal.Output<never> = {
          write: (out) =>
            Effect.suspend(() => {
              emitted = true
              return Queue.offer(queue, Take.of<Handed>(Chunk.fromIterable(out)))
            }),
          reset: Effect.sync(() => !emitted),
          read: (plaintext) =>
            Effect.flatMap(
              Deferred.make<void, Body.BodyBreak>(),
              (done) => Effect.zipRight(Queue.offer(queue, Take.of<Handed>({ plaintext, done })), Deferred.await(done))
            )
        }
        yield* run(source, media, output, options).pipe(
          withOutcome,
          Effect.exit,
          Effect.flatMap((exit) => Queue.offer(queue, Exit.isSuccess(exit) ? Take.end : Take.failCause(exit.cause))),
          Effect.forkScoped
        )
        return Stream.flattenTake(Stream.fromQueue(queue)).pipe(
          Stream.flatMap((handed) => Chunk.isChunk(handed) ? Stream.fromChunk(handed) : readBody(handed))
        )
      })

    const toFile = Effect.fn("MediaDownload.toFile")(
      function*(source: Source, path: string, callOptions: Options = {}) {
        const media = yield* resolve(source, callOptions)
        const options = yield* takeTurn(media, callOptions)
        return yield* FileOutput.withFileOutput(
          path,
          (file) =>
            run(source, media, { write: file.write, reset: Effect.as(file.reset, true), file: file.file }, options)
        )
      },
      Effect.scoped,
      withOutcome
    )

    const toSink = <A, L, E, R>(
      source: Source,
      sink: Sink.Sink<A, Uint8Array, L, E, R>,
      options: Options = {}
    ): Effect.Effect<A, DownloadError | E, R> =>
      Stream.run(stream(source, options), sink).pipe(
        withOutcome,
        Effect.withSpan("MediaDownload.toSink", { captureStackTrace: false })
      )

    const toWritable = Effect.fn("MediaDownload.toWritable")(
      function*(
        source: Source,
        writable: Writable,
        callOptions: Options & { readonly end?: boolean | undefined } = {}
      ) {
        const media = yield* resolve(source, callOptions)
        let emitted = false
        const writeError = (error: Error) =>
          new MediaFileError({ reason: "Write", path: "writable", detail: error.message })
        const summary = yield* Effect.flatMap(takeTurn(media, callOptions), (options) =>
          run(source, media, {
            write: (out) =>
              Effect.suspend(() => {
                emitted = true
                return Effect.mapError(
                  Effect.forEach(out, (chunk) => writeToNode(writable, chunk), { discard: true }),
                  writeError
                )
              }),
            reset: Effect.sync(() => !emitted)
          }, options)).pipe(
            Effect.tapErrorCause((cause) =>
              Effect.sync(() => {
                if (writable.destroyed) return
                const error = Cause.squash(cause)
                writable.destroy(error instanceof Error ? error : new Error(String(error)))
              })
            )
          )
        if (callOptions.end !== false) {
          yield* Effect.async<void>((resume) => {
            writable.end(() => resume(Effect.void))
          })
        }
        return summary
      },
      Effect.scoped,
      withOutcome
    )

    return { bytes, stream, toFile, toSink, toWritable }
  })
