/**
 * The download engine behind `MediaDownload` (docs/protocol.md section 6): one attempt loop over the
 * candidate URLs through the shared failover policy, one decryptor kept across attempts so that a
 * broken body resumes with `Range` instead of starting over, and an output that can (or cannot)
 * be rewound when a clean restart is needed.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import type * as MediaConn from "../MediaConn.js"
import type * as MediaDecryptor from "../MediaDecryptor.js"
import type * as MediaDownload from "../MediaDownload.js"
import {
  type Attempt,
  type InvalidMediaKey,
  type MediaConnError,
  MediaDownloadError,
  MediaIntegrityError,
  type MediaRetryError
} from "../MediaError.js"
import type { Downloadable } from "../MediaMessage.js"
import * as MediaType from "../MediaType.js"
import { makeBlocker } from "./blocks.js"
import * as Body from "./body.js"
import { transportReason } from "./cdnClient.js"
import * as Decryptor from "./decryptor.js"
import * as Encryptor from "./encryptor.js"
import * as Failover from "./failover.js"
import * as Hashing from "./hashing.js"
import { hostOrder } from "./mediaConnModel.js"

/** How a download runs: the options of `MediaDownload.Options` that are not about picking the media. */
export type Options = Pick<
  MediaDownload.Options,
  "stallTimeout" | "deadline" | "protocol" | "headers" | "onProgress" | "progressInterval" | "retry"
>

/** What a finished download did, with the media's new `directPath` when it was re-uploaded. */
export interface Summary extends Omit<MediaDownload.Summary, "reupload"> {
  readonly directPath?: string | undefined
}

/**
 * A re-upload of expired media (`MediaRetry`), asked at most once when a download ends `NotFound`
 * or `Expired` after its credential refresh: `request` yields the fresh `directPath`, `onSuccess`
 * hears of it before the download from there starts.
 */
export interface Reupload {
  readonly request: Effect.Effect<string, MediaRetryError | InvalidMediaKey>
  readonly onSuccess: (directPath: string) => Effect.Effect<void>
}

/** How a re-upload appears in the attempt list. */
export const REUPLOAD_HOST = "sender's phone"

/** Where plaintext goes (`body.ts`). */
export type Output<E> = Body.Output<E>

/** What a download needs from the service. */
export interface Env {
  readonly client: HttpClient.HttpClient
  readonly conn: MediaConn.MediaConn["Type"]
  /** Where the hashes of a blob run (`MediaCrypto`). */
  readonly hashing: Hashing.OpenSession
}

/** The errors of a download, the output's own aside. */
export type DownloadErrors = MediaDownloadError | MediaIntegrityError | MediaConnError | InvalidMediaKey

interface Candidate {
  readonly host: string
  /** The GET of this candidate, before the per-try headers. */
  readonly request: HttpClientRequest.HttpClientRequest
}

const base64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

/**
 * The download request of docs/protocol.md section 6:
 * `{scheme}://{host}{directPath}{sep}hash={token}&mms-type={mmsType}&__wa-mms=`. The direct path's
 * own query (the link signature) comes first, as parameters of the request.
 */
export const downloadRequest = (
  protocol: "https" | "http",
  host: string,
  media: Downloadable
): HttpClientRequest.HttpClientRequest => {
  const directPath = media.directPath ?? "/"
  const query = directPath.indexOf("?")
  // Unencrypted media is named by the SHA-256 of its plaintext.
  const hash = media.mediaKey !== undefined && MediaType.isEncrypted(media.mediaType)
    ? media.fileEncSha256 ?? media.fileSha256
    : media.fileSha256 ?? media.fileEncSha256
  return HttpClientRequest.get(`${protocol}://${host}${query < 0 ? directPath : directPath.slice(0, query)}`).pipe(
    HttpClientRequest.setUrlParams(query < 0 ? [] : new URLSearchParams(directPath.slice(query + 1))),
    HttpClientRequest.appendUrlParams({
      ...(hash === undefined ? {} : { hash: base64Url(hash) }),
      "mms-type": MediaType.info(media.mediaType).mmsType,
      "__wa-mms": ""
    })
  )
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host
  } catch {
    return "invalid-url"
  }
}

/** A message's own URL, tried as it is. */
const byUrl = (url: string): Candidate => ({ host: hostOf(url), request: HttpClientRequest.get(url) })

const isEncryptedMedia = (media: Downloadable): boolean =>
  media.mediaKey !== undefined && MediaType.isEncrypted(media.mediaType)

/** The blob length the message implies, when it tells the plaintext length. */
export const expectedBlobLength = (media: Downloadable): number | undefined =>
  media.fileLength === undefined
    ? undefined
    : isEncryptedMedia(media)
    ? Encryptor.blobLength(media.mediaType, media.fileLength)
    : media.fileLength

const contentRangePattern = /^bytes (\d+)-(\d+)\/(\d+|\*)$/

const parseContentRange = (
  value: string | undefined
): { readonly start: number; readonly total: number | undefined } | undefined => {
  const match = value === undefined ? null : contentRangePattern.exec(value.trim())
  if (match === null) return undefined
  return { start: Number(match[1]), total: match[3] === "*" ? undefined : Number(match[3]) }
}

const parseLength = (value: string | undefined): number | undefined =>
  value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined

const refreshStatuses: ReadonlySet<number> = new Set([401, 403, 404, 410])

/** The marker cause of a restart that an output which already let bytes go cannot do. */
const restartImpossible = "RestartImpossible" as const

/**
 * Runs one download into `output`. The output's own errors pass through untouched; everything
 * else ends as one of `DownloadErrors`.
 */
export const run = <E>(
  env: Env,
  media: Downloadable,
  output: Output<E>,
  options: Options = {},
  reupload?: Reupload
): Effect.Effect<Summary, DownloadErrors | E> =>
  Effect.scoped(Effect.gen(function*() {
    const decryptOptions: MediaDecryptor.DecryptOptions = {
      mediaType: media.mediaType,
      mediaKey: media.mediaKey,
      fileSha256: media.fileSha256,
      fileEncSha256: media.fileEncSha256,
      fileLength: media.fileLength
    }
    const blobSize = expectedBlobLength(media)
    // A bad key fails here, before any request.
    const file = output.file
    const open = yield* Decryptor.prepareCore(
      decryptOptions,
      env.hashing,
      blobSize,
      file === undefined ? undefined : { fd: file.fd, position: 0 }
    )
    // A decryptor lives as long as the download, not as the attempt that started it. The first one
    // opens beside the first request, because its hash session may wait for `MediaCrypto`'s worker to
    // start (about 30 ms). Measured in fresh processes against a server that answers after 100 ms:
    // the first progress of a 256 MiB download came at 172 ms (median of 5), against 198 ms when the
    // session opened before the request.
    // Each in a scope of its own, closed before the output rewinds: a session that writes the file
    // has then written all it was given.
    const runScope = yield* Effect.scope
    const openOwn = Effect.flatMap(
      Scope.fork(runScope, ExecutionStrategy.sequential),
      (scope) => Effect.map(Scope.extend(open, scope), (core) => ({ core, scope }))
    )
    const first = yield* Effect.forkIn(openOwn, runScope)
    // The current decryptor and its scope, once an attempt took the first one.
    let held: { readonly core: Decryptor.Core; readonly scope: Scope.CloseableScope } | undefined = undefined
    /** The current decryptor, once the first one is open. */
    const opened: Effect.Effect<Decryptor.Core> = Effect.suspend(() =>
      held !== undefined ? Effect.succeed(held.core) : Effect.map(Fiber.join(first), (own) => {
        held = own
        return own.core
      })
    )
    // A failed write of a session that writes the file, seen while waiting for its hashes; the
    // output's next write fails with it.
    let writeFailure: Hashing.FileWriteFailure | undefined = undefined
    const noteWriteFailure = (error: unknown): undefined => {
      if (!(error instanceof Hashing.FileWriteFailure)) throw error
      writeFailure = error
      return undefined
    }
    const failedWrite = (failure: Hashing.FileWriteFailure): E => file!.writeError(failure.failure)
    /** The output of a body whose decryptor writes the file: it only reports a failed write. */
    const writtenOutput: Output<E> = {
      ...output,
      write: () =>
        Effect.suspend(() => writeFailure === undefined ? Effect.void : Effect.fail(failedWrite(writeFailure)))
    }
    /** A decryptor's answer, a failed write of the file noted (the answer is then `undefined`). */
    const noting = <A>(core: Decryptor.Core, later: Hashing.Later<A>): Hashing.Later<A | undefined> =>
      core.writesFile && later instanceof Promise ? later.catch(noteWriteFailure) : later
    const protocol = options.protocol ?? "https"
    const stall = Duration.decode(options.stallTimeout ?? Duration.seconds(30))
    const clock = yield* Effect.clock
    const interval = Duration.toMillis(options.progressInterval ?? Duration.millis(100))
    const onProgress = options.onProgress
    const client = HttpClient.withScope(env.client)
    const log: Array<Attempt> = []
    const integrityFailures: Array<MediaIntegrityError> = []
    let total = blobSize
    let tries = 0
    let resumes = 0
    let restarts = 0
    let lastReport = Number.NEGATIVE_INFINITY

    const fail = (
      candidate: Candidate,
      next: Failover.Next,
      reason: string,
      extra: { readonly status?: number; readonly cause?: unknown } = {}
    ) => {
      const failure = new Failover.HostFailure({ host: candidate.host, reason, next, ...extra })
      log.push(
        failure.status === undefined
          ? { host: failure.host, reason }
          : { host: failure.host, status: failure.status, reason }
      )
      return Effect.fail(failure)
    }

    // Where the blob is: the message's path, or the fresh one of a re-upload (the old URL then
    // points at the expired path and is dropped).
    let current: Downloadable = media
    const candidates = (fresh: boolean): Effect.Effect<ReadonlyArray<Candidate>, MediaConnError> => {
      const media = current
      const direct = media.staticUrl ?? media.url
      // Channel media lives at its static URL; a message without a direct path has only its URL.
      if (media.staticUrl !== undefined || media.directPath === undefined) {
        return Effect.succeed(direct === undefined ? [] : [byUrl(direct)])
      }
      const first = !fresh && media.url !== undefined ? [byUrl(media.url)] : []
      return (fresh ? env.conn.refresh : env.conn.get).pipe(
        Effect.map((info) => [
          ...first,
          // The message URL stands in for its own host: the same host is not tried twice in a row.
          ...hostOrder(info).filter((host) => !first.some((c) => c.host === host)).map((host) => ({
            host,
            request: downloadRequest(protocol, host, media)
          }))
        ]),
        // The message URL alone can still work without a media connection.
        Effect.catchAll((error) => first.length > 0 ? Effect.succeed(first) : Effect.fail(error))
      )
    }

    const report = (host: string, force: boolean) =>
      onProgress === undefined ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (!force && now - lastReport < interval) return Effect.void
        lastReport = now
        return onProgress({ bytes: held?.core.bytesIn ?? 0, total, host })
      })

    // The first decryptor, until an attempt took it, is still fresh.
    const freshStart = Effect.suspend(() =>
      held === undefined ? Effect.void : Effect.flatMap(openOwn, (own) =>
        Effect.sync(() => {
          held = own
        }))
    )

    /** Closes the current decryptor's session, which waits for the writes of one that writes the file. */
    const closeCurrent = Effect.suspend(() => held === undefined ? Effect.void : Scope.close(held.scope, Exit.void))

    /**
     * Rewinds the output and the decryptor; false when the output could not rewind. Plaintext that a
     * reader pulled (`Output.read`) has left as soon as the decryptor made it: none may have been made.
     */
    const restart = Effect.flatMap(
      Effect.suspend(() =>
        output.read !== undefined && (held?.core.bytesOut ?? 0) > 0
          ? Effect.succeed(false)
          : Effect.zipRight(closeCurrent, output.reset)
      ),
      (rewound) => rewound ? Effect.as(freshStart, true) : Effect.succeed(false)
    )

    const attempt = (candidate: Candidate): Effect.Effect<Summary, Failover.HostFailure | E | InvalidMediaKey> =>
      Effect.scoped(Effect.gen(function*() {
        tries++
        const offset = held?.core.bytesIn ?? 0
        yield* Effect.annotateCurrentSpan("cdn.offset", offset)
        let request = HttpClientRequest.setHeaders(candidate.request, options.headers ?? {})
        if (offset > 0) {
          request = HttpClientRequest.setHeader(request, "range", `bytes=${offset}-`)
        }
        // The request lives in a scope of its own, which a stall closes: that aborts the body even
        // while another fiber (a reader) is waiting on it.
        const requestScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
        const response: HttpClientResponse.HttpClientResponse | Failover.HostFailure = yield* client.execute(request)
          .pipe(
            Scope.extend(requestScope),
            Effect.timeoutFail({
              duration: stall,
              onTimeout: () => "stall" as const
            }),
            Effect.catchAll((error) =>
              error === "stall"
                ? fail(candidate, "next-host", `stalled: no response in ${Duration.format(stall)}`)
                : fail(candidate, "next-host", transportReason(error))
            )
          )
        const status = response.status
        let bodyIsWhole = status === 200
        // The whole blob's length, as the server tells it.
        let served: number | undefined = undefined
        if (status === 416 && offset > 0) {
          // Nothing left after the offset: the previous body ended exactly at its last byte.
          return yield* finish(candidate)
        }
        if (status === 206) {
          const range = parseContentRange(response.headers["content-range"])
          if (range === undefined) {
            return yield* fail(candidate, "next-host", "206 without a valid Content-Range", { status })
          }
          if (range.start === 0) {
            bodyIsWhole = true
          } else if (range.start !== offset) {
            return yield* fail(candidate, "next-host", `Content-Range starts at ${range.start}, not ${offset}`, {
              status
            })
          } else {
            resumes++
          }
          served = range.total
          if (total === undefined) total = served
        } else if (status === 200) {
          served = parseLength(response.headers["content-length"])
          if (total === undefined) total = served
        } else {
          return yield* fail(
            candidate,
            refreshStatuses.has(status) ? "refresh" : "next-host",
            refreshStatuses.has(status) ?
              (status === 404 || status === 410 ? "expired or moved" : "unauthorized") :
              status >= 500 || status === 429
              ? "server unavailable"
              : "unexpected status",
            { status }
          )
        }
        if (bodyIsWhole && offset > 0) {
          // The server ignored the Range: a clean restart from byte 0, if the output can rewind.
          restarts++
          if (!(yield* restart)) {
            return yield* fail(candidate, "fatal", "the server ignored Range after bytes were emitted", {
              status,
              cause: restartImpossible
            })
          }
        }
        // An output that keeps the plaintext can keep it in one array of its length, believed only
        // when the server's blob has the length the message implies.
        if (served !== undefined && served === blobSize && media.fileLength !== undefined) {
          output.expect?.(media.fileLength)
        }
        const core = yield* opened
        const startedAt = core.bytesIn
        const blocker = makeBlocker()
        // Plaintext that the decryptor's session wrote to the file already is not written again.
        const bodyOutput = core.writesFile ? writtenOutput : output
        const broke = yield* Body.read({
          stream: response.stream,
          blocker,
          decrypt: (block, out) => {
            const plaintext = core.update(block)
            if (plaintext.length > 0) out.push(plaintext)
          },
          // The hashes may run behind on a worker: wait while all of this blob's buffers are there.
          afterChunk: (step) => {
            const hashed = core.ready()
            // A failed write is noted at once, whether or not the step lets the wait run; a rejection
            // the wait never takes (the step failed first) is not reported as unhandled.
            const waiting = hashed === undefined ? undefined : noting(core, hashed)
            waiting?.catch(() => undefined)
            const ready = waiting === undefined ? step : Effect.zipLeft(step, Effect.promise(() => waiting))
            return onProgress === undefined ? ready : Effect.zipLeft(ready, report(candidate.host, false))
          },
          output: bodyOutput,
          clock,
          stall,
          abort: Scope.close(requestScope, Exit.void)
        })
        // Bytes the blocker still holds go to the decryptor, so that `bytesIn` is the resume offset.
        const flush = Effect.suspend(() => {
          const rest = blocker.flush()
          if (rest === undefined) return Effect.void
          const plaintext = core.update(rest)
          return plaintext.length === 0 ? Effect.void : bodyOutput.write([plaintext])
        })
        yield* flush
        if (broke !== undefined) {
          const gained = core.bytesIn - startedAt
          if (broke.cause === "stall") {
            return yield* fail(candidate, "next-host", `stalled: no byte in ${Duration.format(stall)}`, { status })
          }
          return yield* fail(
            candidate,
            gained > 0 ? "same-host" : "next-host",
            `body broke after ${gained} bytes: ${transportReason(broke.cause)}`,
            { status }
          )
        }
        return yield* finish(candidate)
      }))

    const finish = (candidate: Candidate): Effect.Effect<Summary, Failover.HostFailure | E | InvalidMediaKey> =>
      Effect.gen(function*() {
        const core = yield* opened
        const blobLength = core.bytesIn
        const checked = yield* Hashing.toEffect(noting(core, core.final()))
        // A write that failed after the body's last write was checked still fails the download; a
        // missing answer is one that failed so.
        if (checked === undefined || writeFailure !== undefined) return yield* Effect.fail(failedWrite(writeFailure!))
        if (Either.isLeft(checked)) {
          const error = checked.left
          integrityFailures.push(error)
          restarts++
          if (yield* restart) {
            return yield* fail(candidate, "next-host", `integrity: ${error.message}`, { cause: error })
          }
          return yield* fail(candidate, "fatal", `integrity: ${error.message}`, { cause: error })
        }
        if (checked.right.length > 0 && !core.writesFile) yield* output.write([checked.right])
        total = blobLength
        yield* report(candidate.host, true)
        return {
          host: candidate.host,
          fileLength: core.bytesOut,
          blobLength,
          attempts: tries,
          resumes,
          restarts
        }
      })

    const toError = (exhausted: Failover.Exhausted): DownloadErrors => {
      const attempts = exhausted.attempts
      const last = exhausted.last
      switch (exhausted.reason) {
        case "no-hosts":
          return new MediaDownloadError({ reason: "NoHosts", attempts })
        case "fatal":
          if (last?.cause instanceof MediaIntegrityError) return last.cause
          return new MediaDownloadError({ reason: "RestartImpossible", attempts })
        case "refresh-used": {
          const status = last?.status
          return new MediaDownloadError({
            reason: status === 404 ? "NotFound" : status === 410 ? "Expired" : "Unauthorized",
            attempts
          })
        }
        case "all-hosts": {
          // Every host served a blob that failed the same check: the message itself is wrong
          // (key or hashes), which the integrity error says better than "all hosts failed".
          const first = integrityFailures[0]
          if (
            first !== undefined && integrityFailures.length === attempts.length &&
            integrityFailures.every((error) => error.reason === first.reason)
          ) {
            return first
          }
          return new MediaDownloadError({ reason: "AllHostsFailed", attempts })
        }
      }
    }

    const failover = Failover.run({
      candidates,
      label: (candidate: Candidate) => candidate.host,
      span: "MediaDownload.attempt",
      attempt,
      beforeRefresh: env.conn.invalidate,
      retry: options.retry
    }).pipe(
      Effect.catchIf(
        (error): error is Failover.Exhausted => error instanceof Failover.Exhausted,
        (exhausted) => Effect.fail(toError(exhausted))
      )
    )

    // Gone from the CDN after the credential refresh: the sender's phone may upload it again, once.
    // The download then starts over from the fresh path with the same key and checks.
    const expired = (error: DownloadErrors | E): error is MediaDownloadError =>
      error instanceof MediaDownloadError && (error.reason === "NotFound" || error.reason === "Expired")
    const withAttempts = (error: MediaDownloadError, attempts: ReadonlyArray<Attempt>) =>
      new MediaDownloadError({ reason: error.reason, attempts })
    const download = reupload === undefined ? failover : failover.pipe(
      Effect.catchIf(expired, (gone) =>
        Effect.gen(function*() {
          const before = gone.attempts
          const directPath = yield* reupload.request.pipe(
            Effect.catchAll((error) => {
              const refused: Attempt = { host: REUPLOAD_HOST, reason: error.message }
              log.push(refused)
              return Effect.fail(withAttempts(gone, [...before, refused]))
            })
          )
          const asked: Attempt = { host: REUPLOAD_HOST, reason: "re-uploaded" }
          log.push(asked)
          yield* reupload.onSuccess(directPath)
          if (!(yield* restart)) {
            return yield* new MediaDownloadError({ reason: "RestartImpossible", attempts: [...before, asked] })
          }
          const { staticUrl: _static, url: _url, ...kept } = media
          current = { ...kept, directPath }
          const summary = yield* failover.pipe(
            Effect.mapError((error) =>
              error instanceof MediaDownloadError
                ? withAttempts(error, [...before, asked, ...error.attempts])
                : error
            )
          )
          return { ...summary, directPath }
        }))
    )

    const bounded = options.deadline === undefined ? download : Effect.timeoutFail(download, {
      duration: Duration.decode(options.deadline),
      onTimeout: () => new MediaDownloadError({ reason: "DeadlineExceeded", attempts: log.slice() })
    })
    // On the operation's span (the failover adds the host and the number of tries).
    yield* Effect.annotateCurrentSpan({
      "media.type": media.mediaType,
      ...(total === undefined ? {} : { "media.blob_length": total })
    })
    const summary = yield* bounded
    yield* Effect.annotateCurrentSpan({
      "media.blob_length": summary.blobLength,
      "media.file_length": summary.fileLength,
      "cdn.resumes": summary.resumes,
      "cdn.restarts": summary.restarts
    })
    return summary
  }))
