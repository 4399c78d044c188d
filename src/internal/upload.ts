/**
 * The upload engine (docs/protocol.md section 7): a first pass over the source for the result and the URL
 * token, then the shared failover policy over the media connection's hosts, each try a resume probe
 * (at 5 MiB and above) and a POST whose body is a fresh encryption of the source.
 *
 * @internal
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as UrlParams from "@effect/platform/UrlParams"
import * as Chunk from "effect/Chunk"
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import type * as MediaConn from "../MediaConn.js"
import type { CipherSession } from "../MediaCrypto.js"
import type * as MediaEncryptor from "../MediaEncryptor.js"
import type { Attempt, MediaConnError } from "../MediaError.js"
import { MediaUploadError } from "../MediaError.js"
import type { MediaFileError } from "../MediaError.js"
import type * as MediaKeys from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"
import type { Progress } from "../MediaUpload.js"
import { makeBlocker } from "./blocks.js"
import { equalBytes } from "./bytes.js"
import { transportReason } from "./cdnClient.js"
import type * as CipherSessions from "./cipherSession.js"
import * as Encryptor from "./encryptor.js"
import * as Failover from "./failover.js"
import { fileError } from "./fileError.js"
import * as Hashing from "./hashing.js"
import { hostOrder } from "./mediaConnModel.js"
import * as ScavengePacing from "./scavengePacing.js"

/** Blobs of at least this many bytes are uploaded resumably (a probe first). */
export const RESUME_THRESHOLD = 5 * 1024 * 1024

/** The read size of pass 1: large, since node:crypto pays per call. */
export const READ_SIZE = 1024 * 1024

/**
 * The read size of pass 2, whose reads become the request body's chunks: the transport pays per
 * chunk (a wait for the socket to drain, the trip to the worker's cipher and back). Measured on 256
 * MiB uploads to the bench's lean sink, the second pass took 511–528 ms with 2 MiB against 570–597
 * with 1 MiB, and 479–515 with 4 MiB, for twice the memory again. A blob smaller than a chunk gets
 * a buffer of its own size.
 */
const BODY_CHUNK_SIZE = 2 * 1024 * 1024

/** Pass 2's read size for a plaintext of `length` bytes (never 0: the last read must see the end). */
const bodyChunkSize = (length: number): number => Math.max(1, Math.min(BODY_CHUNK_SIZE, length))

// -----------------------------------------------------------------------------
// sources
// -----------------------------------------------------------------------------

/**
 * Reads the plaintext into a caller's buffer: `read` writes up to `buffer.length` bytes at its start
 * and returns how many, 0 at the end. The caller may reuse the buffer as soon as `read` returns.
 */
export interface Reader<E> {
  readonly read: (buffer: Uint8Array) => Effect.Effect<number, E>
}

/** What the engine needs of a source: a fresh reader from the start, as often as asked. */
export interface Source<E> {
  /** The plaintext length when known beforehand. */
  readonly size: number | undefined
  readonly open: Effect.Effect<Reader<E>, E, Scope.Scope>
}

/** Bytes held in memory, copied out block by block. */
export const bytesSource = (bytes: Uint8Array): Source<never> => ({
  size: bytes.length,
  open: Effect.sync(() => {
    let position = 0
    return {
      read: (buffer) =>
        Effect.sync(() => {
          const n = Math.min(buffer.length, bytes.length - position)
          buffer.set(bytes.subarray(position, position + n))
          position += n
          return n
        })
    }
  })
})

/** A file, read straight into the caller's buffers; errors are `MediaFileError`s naming the path. */
export const fileSource = (
  fs: FileSystem.FileSystem,
  path: string
): Effect.Effect<Source<MediaFileError>, MediaFileError> =>
  Effect.map(
    Effect.mapError(fs.stat(path), fileError("Read", path)),
    (info): Source<MediaFileError> => ({
      size: Number(info.size),
      open: Effect.map(
        Effect.mapError(fs.open(path), fileError("Read", path)),
        (file): Reader<MediaFileError> => ({
          read: (buffer) => Effect.map(Effect.mapError(file.read(buffer), fileError("Read", path)), Number)
        })
      )
    })
  )

/** A re-readable stream: each reader pulls a fresh run of it and copies its pieces out. */
export const streamSource = <E>(make: () => Stream.Stream<Uint8Array, E>): Source<E> => ({
  size: undefined,
  open: Effect.map(Stream.toPull(Stream.suspend(make)), (pull): Reader<E> => {
    let pending: Array<Uint8Array> = []
    let ended = false
    const fill = (buffer: Uint8Array, filled: number): Effect.Effect<number, E> => {
      while (filled < buffer.length && pending.length > 0) {
        const piece = pending[0]!
        const n = Math.min(buffer.length - filled, piece.length)
        buffer.set(piece.subarray(0, n), filled)
        filled += n
        if (n === piece.length) pending.shift()
        else pending[0] = piece.subarray(n)
      }
      if (filled === buffer.length || ended) return Effect.succeed(filled)
      return Effect.flatMap(
        Effect.catchAll(pull, (error) =>
          Option.match(error, {
            onNone: () => Effect.sync(() => (ended = true, Chunk.empty<Uint8Array>())),
            onSome: Effect.fail
          })),
        (chunk) => {
          pending = Chunk.toArray(chunk)
          return fill(buffer, filled)
        }
      )
    }
    return { read: (buffer) => Effect.suspend(() => fill(buffer, 0)) }
  })
})

// -----------------------------------------------------------------------------
// the two passes
// -----------------------------------------------------------------------------

/** The first pass: the result, and the last blob bytes (last cipher block and MAC) pass 2 must match. */
export interface FirstPass {
  readonly result: MediaEncryptor.EncryptResult
  readonly tail: Uint8Array
  readonly blobLength: number
}

/** How the blob is made: the keys of encrypted media, `undefined` for media sent as plaintext. */
export interface Encryption {
  readonly mediaType: MediaType.MediaType
  readonly mediaKey: MediaKeys.MediaKey
  readonly keys: MediaKeys.MediaKeys | undefined
  readonly sidecar: boolean
  /** Where pass 1's hashes run (`MediaCrypto`). */
  readonly hashes: Hashing.OpenSession
  /** Where pass 2's cipher runs (`MediaCrypto`). */
  readonly cipher: CipherSessions.OpenCipher
}

/**
 * Pass 1's encryptor: the encryptor core, its hashes on a session for `size` bytes, and a step
 * that feeds it a chunk and then waits while its hashes are behind.
 */
interface FirstPassEncryptor {
  readonly core: Encryptor.Core
  readonly step: (bytes: Uint8Array) => Effect.Effect<void>
}

const firstPassEncryptor = (
  encryption: Encryption,
  size: number | undefined
): Effect.Effect<FirstPassEncryptor, never, Scope.Scope> =>
  Effect.map(
    Encryptor.openCore(
      {
        mediaType: encryption.mediaType,
        plan: encryption.keys === undefined ? undefined : {
          mediaType: encryption.mediaType,
          mediaKey: encryption.mediaKey,
          keys: encryption.keys,
          sidecar: encryption.sidecar
        }
      },
      encryption.hashes,
      size
    ),
    (core) => {
      // Only the hashes read pass 1's ciphertext, so one buffer takes it all: a fresh buffer per
      // chunk was half of what an upload allocated, and the collector's work grew with it.
      return {
        core,
        step: (bytes) => {
          core.updateReused(bytes)
          const hashed = core.ready()
          return hashed === undefined ? Effect.void : Effect.promise(() => hashed)
        }
      }
    }
  )

/** The first pass's outcome once the encryptor saw the whole plaintext. */
const endFirstPass = ({ core: encryptor }: FirstPassEncryptor): Effect.Effect<FirstPass> =>
  Effect.map(
    Effect.suspend(() => Hashing.toEffect(encryptor.final())),
    ({ result, tail }) => ({ result, tail, blobLength: encryptor.bytesOut })
  )

/**
 * Pass 1 over a re-readable source: the hashes for the URL token and the result. The calling
 * thread reads and encrypts (and computes the sidecar); the hashes run where `MediaCrypto` says (a
 * worker for large media).
 */
export const firstPass = <E>(source: Source<E>, encryption: Encryption): Effect.Effect<FirstPass, E> =>
  Effect.scoped(Effect.gen(function*() {
    const reader = yield* source.open
    const encryptor = yield* firstPassEncryptor(encryption, source.size)
    const buffer = new Uint8Array(READ_SIZE)
    const loop: Effect.Effect<void, E> = Effect.flatMap(
      reader.read(buffer),
      (n) => n === 0 ? Effect.void : Effect.zipRight(encryptor.step(buffer.subarray(0, n)), loop)
    )
    yield* loop
    return yield* endFirstPass(encryptor)
  }))

/**
 * Pass 1 over a one-shot stream: the plaintext goes to a scoped temp file (removed when the scope
 * closes) while it is hashed, so the stream is read exactly once.
 */
export const spill = <E>(
  fs: FileSystem.FileSystem,
  stream: Stream.Stream<Uint8Array, E>,
  encryption: Encryption
): Effect.Effect<
  { readonly path: string; readonly first: FirstPass },
  E | MediaFileError,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const encryptor = yield* firstPassEncryptor(encryption, undefined)
    const path = yield* fs.makeTempFileScoped({ prefix: "wa-media-upload-" }).pipe(
      Effect.mapError(fileError("Write", "a temp file"))
    )
    const blocker = makeBlocker()
    yield* stream.pipe(
      Stream.mapChunksEffect((chunk) =>
        Effect.as(
          Effect.forEach(chunk, (piece) => Effect.forEach(blocker.push(piece), encryptor.step), {
            discard: true
          }),
          chunk
        )
      ),
      Stream.run(Sink.mapError(fs.sink(path), fileError("Write", path)))
    )
    const rest = blocker.flush()
    if (rest !== undefined) {
      yield* encryptor.step(rest)
    }
    return { path, first: yield* endFirstPass(encryptor) }
  })

const sourceChanged = () => new MediaUploadError({ reason: "SourceChanged", attempts: [] })

/**
 * Pass 2's blob, built afresh for every run. Encrypted media costs only AES-CBC here, on a cipher
 * session of `MediaCrypto` (a worker for large media, while this thread reads and sends): the blob
 * ends with pass 1's tail (last cipher block and MAC) once this pass's last cipher block and length
 * match it. In CBC the last block depends on every plaintext byte before it, so a source that
 * changed in between fails with `SourceChanged` before the body is complete, and the CDN never
 * takes it. Media sent as plaintext is checked by its SHA-256.
 */
export const blobStream = <E>(
  source: Source<E>,
  encryption: Encryption,
  first: FirstPass
): Stream.Stream<Uint8Array, E | MediaUploadError> =>
  encryption.keys === undefined
    ? plaintextBlob(source, encryption.mediaType, first)
    : encryptedBlob(source, encryption.cipher(encryption.keys, first.result.fileLength), first)

/**
 * Pass 2's reads of the source: each counts what it read, and one that makes the source longer
 * than pass 1 found fails with `SourceChanged`. `complete` says whether exactly pass 1's length
 * was read.
 */
const checkedReader = <E>(reader: Reader<E>, first: FirstPass) => {
  const expected = first.result.fileLength
  let length = 0
  return {
    read: (buffer: Uint8Array): Effect.Effect<number, E | MediaUploadError> =>
      Effect.flatMap(reader.read(buffer), (n) => {
        length += n
        return length > expected ? Effect.fail(sourceChanged()) : Effect.succeed(n)
      }),
    complete: () => length === expected
  }
}

/**
 * Pass 2 of encrypted media: up to `session.ahead` chunks read and at the cipher while the oldest
 * one's ciphertext goes out. Each chunk is read into a fresh buffer that its ciphertext then fills:
 * the transport keeps what it is given (`scavengePacing.ts` says how the dead ones are freed).
 */
const encryptedBlob = <E>(
  source: Source<E>,
  openCipher: Effect.Effect<CipherSession, never, Scope.Scope>,
  first: FirstPass
): Stream.Stream<Uint8Array, E | MediaUploadError> =>
  Stream.unwrapScoped(Effect.zipWith(source.open, openCipher, (reader, session) => {
    const reads = checkedReader(reader, first)
    const chunkSize = bodyChunkSize(first.result.fileLength)
    const atCipher: Array<Hashing.Later<Uint8Array>> = []
    let read = false
    const readAhead: Effect.Effect<void, E | MediaUploadError> = Effect.suspend(() => {
      if (read || atCipher.length >= session.ahead) return Effect.void
      // Room for a block the cipher held back from the chunk before.
      const input = new ArrayBuffer(chunkSize + Encryptor.BLOCK)
      return Effect.flatMap(reads.read(new Uint8Array(input, 0, chunkSize)), (n) => {
        if (n === 0) {
          read = true
          return Effect.void
        }
        ScavengePacing.paceFor(n)
        atCipher.push(session.update(input, n))
        return readAhead
      })
    })
    const body = Stream.repeatEffectOption(Effect.flatMap(Effect.mapError(readAhead, Option.some), () => {
      const oldest = atCipher.shift()
      return oldest === undefined ? Effect.fail(Option.none()) : Hashing.toEffect(oldest)
    }))
    const lastBlock = first.tail.subarray(0, first.tail.length - Encryptor.MAC_LENGTH)
    const end = Stream.unwrap(Effect.map(
      Effect.suspend(() => Hashing.toEffect(session.final())),
      (last) =>
        reads.complete() && equalBytes(last, lastBlock) ? Stream.succeed(first.tail) : Stream.fail(sourceChanged())
    ))
    return Stream.concat(body, end)
  }))

/** Pass 2 of media sent as plaintext: the source as it is, then its SHA-256 and length checked against pass 1. */
const plaintextBlob = <E>(
  source: Source<E>,
  mediaType: MediaType.MediaType,
  first: FirstPass
): Stream.Stream<Uint8Array, E | MediaUploadError> =>
  Stream.unwrapScoped(Effect.map(source.open, (reader) => {
    const reads = checkedReader(reader, first)
    const chunkSize = bodyChunkSize(first.result.fileLength)
    const passthrough = Encryptor.makeUnencrypted(mediaType)
    // The transport keeps the bytes it is given: a fresh buffer per read.
    const body: Stream.Stream<Uint8Array, E | MediaUploadError> = Stream.repeatEffectOption(Effect.suspend(() => {
      const buffer = new Uint8Array(chunkSize)
      return Effect.flatMap(
        Effect.mapError(reads.read(buffer), Option.some),
        (n) => {
          if (n === 0) return Effect.fail(Option.none())
          ScavengePacing.paceFor(n)
          return Effect.succeed(passthrough.update(buffer.subarray(0, n)))
        }
      )
    }))
    const end = Stream.unwrap(Effect.map(
      Effect.suspend(() => Hashing.toEffect(passthrough.final())),
      ({ result }) =>
        reads.complete() && equalBytes(result.fileSha256, first.result.fileSha256)
          ? Stream.empty
          : Stream.fail(sourceChanged())
    ))
    return Stream.concat(body, end)
  }))

/** Drops the first `offset` bytes of a byte stream, slicing the chunk that straddles it. */
export const dropBytes = <E>(self: Stream.Stream<Uint8Array, E>, offset: number): Stream.Stream<Uint8Array, E> =>
  offset <= 0 ? self : Stream.suspend(() => {
    let position = 0
    return Stream.mapChunks(self, (chunk) => {
      if (position >= offset) return chunk
      const out: Array<Uint8Array> = []
      for (const piece of chunk) {
        const start = position
        position += piece.length
        if (position <= offset) continue
        out.push(start >= offset ? piece : piece.subarray(offset - start))
      }
      return Chunk.unsafeFromArray(out)
    })
  })

// -----------------------------------------------------------------------------
// one try at one host
// -----------------------------------------------------------------------------

/** The CDN's answer to a successful upload, fields renamed. */
export interface Uploaded {
  readonly url: string
  readonly directPath: string
  readonly handle?: string
  readonly objectId?: string
}

/** What one upload needs beyond the source. */
export interface Job<E> {
  readonly client: HttpClient.HttpClient
  readonly mediaConn: MediaConn.MediaConn["Type"]
  readonly clock: Clock.Clock
  readonly mediaType: MediaType.MediaType
  readonly first: FirstPass
  /** A fresh blob stream (pass 2), from the start. */
  readonly blob: () => Stream.Stream<Uint8Array, E | MediaUploadError>
  readonly protocol: "https" | "http"
  readonly stallTimeout: Duration.Duration
  readonly onProgress: ((progress: Progress) => Effect.Effect<void>) | undefined
  readonly progressInterval: number
  /** Extra request headers (`Origin` is always `https://web.whatsapp.com`). */
  readonly headers: Readonly<Record<string, string>> | undefined
  readonly retry: Failover.RetryPolicy | undefined
}

interface Candidate {
  readonly host: string
  readonly auth: Redacted.Redacted<string>
}

const base64Url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")

/**
 * The upload POST of docs/protocol.md section 7, `{scheme}://{host}{uploadPath}/{token}?auth=…&token=…`,
 * with `extra` after them (`resume=1`, `file_offset=N`) and the job's headers.
 */
const uploadRequest = (job: Job<unknown>, candidate: Candidate, extra: UrlParams.Input = []) => {
  const token = base64Url(job.first.result.fileEncSha256)
  const path = MediaType.info(job.mediaType).uploadPath
  return HttpClientRequest.post(`${job.protocol}://${candidate.host}${path}/${token}`).pipe(
    HttpClientRequest.setUrlParams({ auth: Redacted.value(candidate.auth), token }),
    HttpClientRequest.appendUrlParams(extra),
    HttpClientRequest.setHeaders(job.headers ?? {})
  )
}

const failure = (host: string, reason: string, next: Failover.Next, status?: number) =>
  new Failover.HostFailure(status === undefined ? { host, reason, next } : { host, status, reason, next })

/** A 2xx whose body is not the JSON of a finished upload. */
const badReply = (host: string, status: number) =>
  failure(host, "reply without url or direct_path", "next-host", status)

/** A reply with a status that is not 2xx: a refresh for 401/403, the next host otherwise. */
const statusFailure = (host: string) => (response: HttpClientResponse.HttpClientResponse) => {
  const { status } = response
  const failed = status === 401 || status === 403
    ? failure(host, status === 401 ? "unauthorized" : "forbidden", "refresh", status)
    : failure(
      host,
      status >= 500 ? "server error" : status === 429 ? "too many requests" : "rejected",
      "next-host",
      status
    )
  return Effect.zipRight(Effect.ignore(response.text), Effect.fail(failed))
}

/** The CDN's JSON answer to a finished upload. */
const UploadReply = Schema.Struct({
  url: Schema.String,
  direct_path: Schema.String,
  handle: Schema.optional(Schema.String),
  object_id: Schema.optional(Schema.String)
})

const toUploaded = (reply: typeof UploadReply.Type): Uploaded => ({
  url: reply.url,
  directPath: reply.direct_path,
  ...(reply.handle === undefined ? {} : { handle: reply.handle }),
  ...(reply.object_id === undefined ? {} : { objectId: reply.object_id })
})

/** The CDN's answer to a resume probe: the upload is complete, or how many bytes it holds. */
const ProbeReply = Schema.Union(
  Schema.Struct({ ...UploadReply.fields, resume: Schema.Literal("complete") }),
  Schema.Struct({ resume: Schema.String.pipe(Schema.pattern(/^\d{1,16}$/), Schema.compose(Schema.NumberFromString)) })
)

/**
 * Fails with a stall when neither `activity` moved nor `work` finished for `timeout`; `activity`
 * returns the epoch milliseconds of the last sign of life.
 */
const withStallTimeout = <A, E>(
  work: Effect.Effect<A, E>,
  job: Job<unknown>,
  activity: () => number,
  onStall: () => Failover.HostFailure
): Effect.Effect<A, E | Failover.HostFailure> => {
  const limit = Duration.toMillis(job.stallTimeout)
  const watchdog: Effect.Effect<never, Failover.HostFailure> = Effect.suspend(() => {
    const idle = job.clock.unsafeCurrentTimeMillis() - activity()
    return idle >= limit ? Effect.fail(onStall()) : Effect.zipRight(Effect.sleep(limit - idle), watchdog)
  })
  return Effect.raceFirst(work, watchdog)
}

type ProbeOutcome =
  | { readonly _tag: "Complete"; readonly uploaded: Uploaded }
  | { readonly _tag: "Offset"; readonly offset: number }

const fromStart: ProbeOutcome = { _tag: "Offset", offset: 0 }

/**
 * The resume probe. It never fails the upload by itself: anything but a usable answer is a full
 * upload. A 401 or 403 is the one exception, taken as what it says (the credential is stale), so the
 * refresh happens before the body is sent rather than after.
 */
const probe = (job: Job<unknown>, candidate: Candidate): Effect.Effect<ProbeOutcome, Failover.HostFailure> => {
  const started = job.clock.unsafeCurrentTimeMillis()
  const request = uploadRequest(job, candidate, { resume: 1 }).pipe(
    HttpClientRequest.setHeader("content-length", "0")
  )
  const blobLength = job.first.blobLength
  const answer = (reply: typeof ProbeReply.Type): ProbeOutcome => {
    if (reply.resume === "complete") return { _tag: "Complete", uploaded: toUploaded(reply) }
    const offset = reply.resume
    return offset > 0 && offset < blobLength ? { _tag: "Offset", offset } : fromStart
  }
  // Anything but a 2xx with a reply of the right shape is a full upload; only 401/403 fail.
  const asked = Effect.flatMap(
    job.client.execute(request),
    HttpClientResponse.matchStatus({
      "2xx": (response) => Effect.map(HttpClientResponse.schemaBodyJson(ProbeReply)(response), answer),
      401: statusFailure(candidate.host),
      403: statusFailure(candidate.host),
      orElse: (response) => Effect.as(Effect.ignore(response.text), fromStart)
    })
  )
  return withStallTimeout(asked, job, () => started, () => failure(candidate.host, "probe stalled", "next-host")).pipe(
    Effect.catchAll((error) =>
      error instanceof Failover.HostFailure && error.next === "refresh" ? Effect.fail(error) : Effect.succeed(fromStart)
    )
  )
}

/**
 * Ends every chunk of a request body with a one-byte piece of its last bytes (a view, no copy).
 * `@effect/platform-node`'s `node:http` client writes a body through `NodeSink.fromWritable`, which
 * waits for `drain` after a refused write except the last one of a chunk: with one piece per chunk
 * it never waits, and a server slower than the cipher lets the whole blob pile up in memory. With a
 * tail piece last, the write that fills the buffer is never a chunk's last, so the body is held to
 * about one chunk. Other clients just see one more small piece.
 */
export const drainSafe = (chunk: Chunk.Chunk<Uint8Array>): Chunk.Chunk<Uint8Array> => {
  const last = Chunk.last(chunk)
  if (Option.isNone(last) || last.value.length < 2) return chunk
  const piece = last.value
  return Chunk.appendAll(
    Chunk.dropRight(chunk, 1),
    Chunk.make(piece.subarray(0, piece.length - 1), piece.subarray(piece.length - 1))
  )
}

/** One POST of the blob (from `offset`) to one host. */
const send = <E>(
  job: Job<E>,
  candidate: Candidate,
  offset: number
): Effect.Effect<Uploaded, Failover.HostFailure | E | MediaUploadError> =>
  Effect.suspend(() => {
    const { host } = candidate
    const total = job.first.blobLength
    let sent = offset
    let lastActivity = job.clock.unsafeCurrentTimeMillis()
    let lastReport = Number.NEGATIVE_INFINITY
    // A failure of the source (or a changed source) surfaces at the transport as a broken body; it is
    // kept here so that it is reported as what it is, not as a host failure.
    let sourceFailure: { readonly error: E | MediaUploadError } | undefined
    const report = job.onProgress
    const counted = dropBytes(job.blob(), offset).pipe(
      Stream.mapChunksEffect((chunk) => {
        for (const piece of chunk) sent += piece.length
        const now = job.clock.unsafeCurrentTimeMillis()
        lastActivity = now
        if (report === undefined || (now - lastReport < job.progressInterval && sent < total)) {
          return Effect.succeed(chunk)
        }
        lastReport = now
        return Effect.as(report({ bytes: sent, total, host }), chunk)
      }),
      Stream.mapChunks(drainSafe),
      Stream.tapError((error) =>
        Effect.sync(() => {
          sourceFailure = { error }
        })
      )
    )
    const length = total - offset
    const request = uploadRequest(job, candidate, offset > 0 ? { file_offset: offset } : []).pipe(
      HttpClientRequest.bodyStream(counted, { contentType: "application/octet-stream", contentLength: length }),
      // Set explicitly: the body helper leaves a zero length out.
      HttpClientRequest.setHeader("content-length", String(length))
    )
    const resumable = total >= RESUME_THRESHOLD
    const exchange = job.client.execute(request).pipe(
      Effect.flatMap(HttpClientResponse.matchStatus({
        "2xx": (response) =>
          HttpClientResponse.schemaBodyJson(UploadReply)(response).pipe(
            Effect.map(toUploaded),
            Effect.catchTag("ParseError", () => Effect.fail(badReply(host, response.status)))
          ),
        orElse: statusFailure(host)
      })),
      Effect.catchTags({
        // Bytes that got through are held by the CDN: the same host resumes from them once.
        RequestError: (error) =>
          Effect.fail(failure(host, transportReason(error), resumable && sent > offset ? "same-host" : "next-host")),
        ResponseError: (error) =>
          Effect.fail(
            // A body that arrived but is not JSON; a body that broke off is a transport failure.
            error.reason === "Decode" && error.cause instanceof SyntaxError
              ? badReply(host, error.response.status)
              : failure(host, `broken reply: ${transportReason(error)}`, "next-host")
          )
      })
    )
    return withStallTimeout(exchange, job, () => lastActivity, () => failure(host, "stalled", "next-host")).pipe(
      Effect.catchAll((error): Effect.Effect<never, Failover.HostFailure | E | MediaUploadError> =>
        sourceFailure === undefined ? Effect.fail(error) : Effect.fail(sourceFailure.error)
      )
    )
  })

/** One try at one host: the probe for a large blob, then the body (or nothing, when complete). */
const attempt = <E>(
  job: Job<E>,
  candidate: Candidate
): Effect.Effect<Uploaded, Failover.HostFailure | E | MediaUploadError> =>
  Effect.gen(function*() {
    if (job.first.blobLength < RESUME_THRESHOLD) return yield* send(job, candidate, 0)
    const outcome = yield* probe(job, candidate)
    yield* Effect.annotateCurrentSpan({
      "cdn.probe": outcome._tag === "Complete" ? "complete" : outcome.offset > 0 ? "offset" : "none",
      "cdn.offset": outcome._tag === "Complete" ? job.first.blobLength : outcome.offset
    })
    if (outcome._tag === "Complete") {
      if (job.onProgress !== undefined) {
        yield* job.onProgress({ bytes: job.first.blobLength, total: job.first.blobLength, host: candidate.host })
      }
      return outcome.uploaded
    }
    return yield* send(job, candidate, outcome.offset)
  })

const exhaustedReason = (reason: Failover.Exhausted["reason"]): MediaUploadError["reason"] =>
  reason === "refresh-used" ? "Unauthorized" : reason === "no-hosts" ? "NoHosts" : "AllHostsFailed"

/**
 * Runs the failover over the hosts of the media connection. `deadline` bounds the whole operation;
 * past it, the error lists the attempts made so far.
 */
export const run = <E>(
  job: Job<E>,
  deadline: Duration.Duration | undefined
): Effect.Effect<Uploaded, E | MediaUploadError | MediaConnError> => {
  const attempts: Array<Attempt> = []
  const candidates = (fresh: boolean) =>
    Effect.map(
      fresh ? job.mediaConn.refresh : job.mediaConn.get,
      (info): ReadonlyArray<Candidate> => hostOrder(info).map((host) => ({ host, auth: info.auth }))
    )
  const plan: Failover.Plan<Candidate, Uploaded, E | MediaUploadError, never> = {
    candidates,
    label: (candidate) => candidate.host,
    span: "MediaUpload.attempt",
    attempt: (candidate) =>
      attempt(job, candidate).pipe(
        Effect.tapError((error) =>
          Effect.sync(() => {
            if (error instanceof Failover.HostFailure) {
              attempts.push(
                error.status === undefined
                  ? { host: error.host, reason: error.reason }
                  : { host: error.host, status: error.status, reason: error.reason }
              )
            }
          })
        )
      ),
    beforeRefresh: job.mediaConn.invalidate,
    retry: job.retry
  }
  const ran = Failover.run(plan).pipe(
    Effect.mapError((error): E | MediaUploadError | MediaConnError =>
      error instanceof Failover.Exhausted
        ? new MediaUploadError({ reason: exhaustedReason(error.reason), attempts: error.attempts })
        : error instanceof MediaUploadError && error.reason === "SourceChanged"
        ? new MediaUploadError({ reason: "SourceChanged", attempts: attempts.slice() })
        : error
    )
  )
  return deadline === undefined ? ran : ran.pipe(
    Effect.timeoutFail({
      duration: deadline,
      onTimeout: () => new MediaUploadError({ reason: "DeadlineExceeded", attempts: attempts.slice() })
    })
  )
}
