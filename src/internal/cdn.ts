/**
 * The CDN world behind the emulator and the fake `HttpClient`: one transport-independent core that
 * answers the requests of docs/protocol.md sections 5-7 from a small request model, with a blob store
 * (memory or folder), rotating auth tokens, signed expiring links, fault injection per host and a
 * record of every request.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import type { CdnControl, RecordedRequest, StoredBlob } from "../CdnControl.js"
import type { MediaConnJson } from "../MediaConn.js"
import * as MediaType from "../MediaType.js"

// ---------------------------------------------------------------------------------------------
// models
// ---------------------------------------------------------------------------------------------

const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())

const faultFields = {
  /** How many matching requests this fault answers (default 1). */
  times: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** Which requests it applies to; by default uploads and downloads (never `/media_conn`). */
  on: Schema.optional(Schema.Literal("upload", "download", "media_conn"))
}

/** @internal */
export const Fault = Schema.Union(
  Schema.TaggedStruct("Status", { status: Schema.Int.pipe(Schema.between(200, 599)), ...faultFields }),
  Schema.TaggedStruct("Drop", { afterBytes: NonNegativeInt, ...faultFields }),
  Schema.TaggedStruct("FlipByte", { offset: NonNegativeInt, ...faultFields }),
  Schema.TaggedStruct("Stall", { afterBytes: Schema.optional(NonNegativeInt), ...faultFields }),
  Schema.TaggedStruct("IgnoreRange", faultFields)
)

type Fault = typeof Fault.Type

type RequestKind = RecordedRequest["kind"]

/** @internal */
export interface CdnRequest {
  readonly method: string
  readonly host: string
  /** Path and query, as on the request line. */
  readonly url: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly contentLength: number | undefined
  readonly body: Stream.Stream<Uint8Array, unknown>
}

/** @internal */
export interface CdnResponse {
  readonly _tag: "Response"
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Stream.Stream<Uint8Array>
  /** What the transport does once `body` ended: finish, cut the connection, or hang. */
  readonly ending: "Complete" | "Drop" | "Stall"
}

/** @internal */
export interface CdnDropped {
  readonly _tag: "Dropped"
}

/** @internal */
export type CdnReply = CdnResponse | CdnDropped

/** @internal */
export interface CdnOptions {
  readonly hosts: ReadonlyArray<string>
  readonly scheme: "http" | "https"
  readonly dir?: string | undefined
  readonly tokenTtlSeconds?: number | undefined
  readonly linkTtlSeconds?: number | undefined
  readonly mediaConnTtlSeconds?: number | undefined
}

/**
 * The CDN core: what tests and tools control (`CdnControl`, see {@link control} for the fault
 * options), plus the request handler both transports call.
 *
 * @internal
 */
export interface Cdn extends Omit<CdnControl, "injectFault" | "injectFaults"> {
  readonly handle: (request: CdnRequest) => Effect.Effect<CdnReply>
  readonly injectFaults: (faults: ReadonlyArray<Fault>, host?: string) => Effect.Effect<void>
}

// ---------------------------------------------------------------------------------------------
// byte streams
// ---------------------------------------------------------------------------------------------

const CHUNK = 64 * 1024

/** @internal */
export const takeBytes = <E>(self: Stream.Stream<Uint8Array, E>, n: number): Stream.Stream<Uint8Array, E> =>
  n <= 0 ? Stream.empty : Stream.suspend(() => {
    let left = n
    // One element per chunk, so that the count is checked after each element, not after a batch.
    return self.pipe(
      Stream.rechunk(1),
      Stream.map((chunk) => {
        const out = chunk.length <= left ? chunk : chunk.subarray(0, left)
        left -= out.length
        return out
      }),
      Stream.takeUntil(() => left === 0),
      Stream.filter((chunk) => chunk.length > 0)
    )
  })

/** @internal */
export const flipByteAt = <E>(self: Stream.Stream<Uint8Array, E>, offset: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let position = 0
    return Stream.map(self, (chunk) => {
      const start = position
      position += chunk.length
      if (offset < start || offset >= position) return chunk
      const copy = Uint8Array.from(chunk)
      copy[offset - start] ^= 0xff
      return copy
    })
  })

const slices = (bytes: Uint8Array, start: number, end: number): Stream.Stream<Uint8Array> =>
  Stream.fromIterable({
    *[Symbol.iterator]() {
      for (let i = start; i < end; i += CHUNK) yield bytes.subarray(i, Math.min(i + CHUNK, end))
    }
  })

const readFileRange = (path: string, start: number, end: number): Stream.Stream<Uint8Array> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const handle = yield* Effect.acquireRelease(
      Effect.promise(() => Fs.open(path, "r")),
      (handle) => Effect.promise(() => handle.close())
    )
    let position = start
    return Stream.repeatEffectOption(Effect.suspend(() => {
      if (position >= end) return Effect.fail(Option.none())
      const size = Math.min(CHUNK, end - position)
      const at = position
      return Effect.promise(() => handle.read(Buffer.allocUnsafe(size), 0, size, at)).pipe(
        Effect.flatMap(({ buffer, bytesRead }) => {
          // A stored blob shrinking under us is a broken invariant of the store.
          if (bytesRead === 0) return Effect.dieMessage(`stored blob ${path} is shorter than recorded`)
          position += bytesRead
          return Effect.succeed(buffer.subarray(0, bytesRead) as Uint8Array)
        })
      )
    }))
  }))

const utf8 = new TextEncoder()

// ---------------------------------------------------------------------------------------------
// blob store
// ---------------------------------------------------------------------------------------------

type Data =
  | { readonly _tag: "Memory"; readonly bytes: Uint8Array }
  | { readonly _tag: "File"; readonly path: string }

interface Entry {
  readonly token: string
  readonly id: string
  readonly uploadPath: string
  readonly length: number
  readonly data: Data
}

/** An upload in progress or broken off: what was received so far for one token. */
interface Partial {
  length: number
  readonly hash: Crypto.Hash
  /** Appends a batch of chunks (one write call for the whole batch). */
  readonly write: (chunks: Chunk.Chunk<Uint8Array>) => Effect.Effect<void>
  readonly reserve: (extra: number) => void
  readonly close: Effect.Effect<void>
  readonly commit: (token: string) => Effect.Effect<Data>
  readonly discard: Effect.Effect<void>
}

interface Store {
  /** The largest blob the store takes. */
  readonly maxLength: number
  readonly load: Effect.Effect<ReadonlyArray<{ token: string; length: number; data: Data }>>
  readonly partial: (capacity: number) => Effect.Effect<Partial>
  readonly read: (data: Data, start: number, end: number) => Stream.Stream<Uint8Array>
  readonly remove: (data: Data) => Effect.Effect<void>
}

const memoryStore: Store = {
  // One Uint8Array per blob.
  maxLength: 2 ** 31 - 1,
  load: Effect.succeed([]),
  partial: (capacity) =>
    Effect.sync(() => {
      let buffer = new Uint8Array(capacity)
      const partial: Partial = {
        length: 0,
        hash: Crypto.createHash("sha256"),
        reserve: (extra) => {
          const needed = partial.length + extra
          if (needed <= buffer.length) return
          const grown = new Uint8Array(Math.max(needed, buffer.length * 2))
          grown.set(buffer.subarray(0, partial.length))
          buffer = grown
        },
        write: (chunks) =>
          Effect.sync(() => {
            for (const chunk of chunks) {
              partial.reserve(chunk.length)
              buffer.set(chunk, partial.length)
              partial.hash.update(chunk)
              partial.length += chunk.length
            }
          }),
        close: Effect.void,
        commit: () => Effect.sync(() => ({ _tag: "Memory", bytes: buffer.subarray(0, partial.length) })),
        discard: Effect.sync(() => {
          buffer = new Uint8Array(0)
        })
      }
      return partial
    }),
  read: (data, start, end) =>
    data._tag === "Memory" ? slices(data.bytes, start, end) : readFileRange(data.path, start, end),
  remove: () => Effect.void
}

const dirStore = (dir: string): Store => {
  const blobs = Path.join(dir, "blobs")
  const partials = Path.join(dir, "partial")
  let counter = 0
  return {
    maxLength: Number.MAX_SAFE_INTEGER,
    load: Effect.promise(async () => {
      await Fs.mkdir(blobs, { recursive: true })
      await Fs.rm(partials, { recursive: true, force: true })
      await Fs.mkdir(partials, { recursive: true })
      const found: Array<{ token: string; length: number; data: Data }> = []
      for (const name of await Fs.readdir(blobs)) {
        if (!/^[A-Za-z0-9_-]{43}$/.test(name)) continue
        const path = Path.join(blobs, name)
        const stat = await Fs.stat(path)
        if (stat.isFile()) found.push({ token: name, length: stat.size, data: { _tag: "File", path } })
      }
      return found
    }),
    partial: () =>
      Effect.sync(() => {
        const path = Path.join(partials, `${process.pid}-${++counter}`)
        let handle: Fs.FileHandle | undefined
        let created = false
        const open = Effect.promise(async () => {
          if (handle === undefined) {
            // Not "a": appends ignore the position, and writes must be positional.
            handle = await Fs.open(path, created ? "r+" : "w")
            created = true
          }
          return handle
        })
        const close = Effect.promise(async () => {
          const current = handle
          handle = undefined
          await current?.close()
        })
        const partial: Partial = {
          length: 0,
          hash: Crypto.createHash("sha256"),
          reserve: () => {},
          write: (chunks) =>
            Effect.flatMap(open, (handle) => {
              const arrays = Chunk.toReadonlyArray(chunks).filter((chunk) => chunk.length > 0)
              if (arrays.length === 0) return Effect.void
              // Positional writes: bytes written by a request that was cut off before it counted
              // them are simply overwritten by the next append.
              return Effect.promise(() => handle.writev(arrays, partial.length)).pipe(
                Effect.map(({ bytesWritten }) => {
                  let total = 0
                  for (const chunk of arrays) total += chunk.length
                  // Short vectored writes are rare but allowed; finish them one by one.
                  if (bytesWritten !== total) return Effect.dieMessage("short write to a partial upload")
                  for (const chunk of arrays) partial.hash.update(chunk)
                  partial.length += total
                  return Effect.void
                }),
                Effect.flatten
              )
            }),
          close,
          commit: (token) =>
            Effect.zipRight(
              close,
              Effect.promise(async () => {
                const target = Path.join(blobs, token)
                await Fs.truncate(path, partial.length)
                await Fs.rename(path, target)
                return { _tag: "File", path: target } as const
              })
            ),
          discard: Effect.zipRight(close, Effect.promise(() => Fs.rm(path, { force: true })))
        }
        return partial
      }),
    read: memoryStore.read,
    remove: (data) => data._tag === "File" ? Effect.promise(() => Fs.rm(data.path, { force: true })) : Effect.void
  }
}

// ---------------------------------------------------------------------------------------------
// the core
// ---------------------------------------------------------------------------------------------

const uploadPaths: ReadonlySet<string> = new Set(MediaType.names.map((name) => MediaType.info(name).uploadPath))

// The folder part of a real direct path, by upload path; the id after it is what identifies a blob.
const pathPrefix: Readonly<Record<string, string>> = {
  "/mms/image": "/v/t62.7118-24",
  "/mms/video": "/v/t62.7161-24",
  "/mms/audio": "/v/t62.7114-24",
  "/mms/document": "/v/t62.7119-24",
  "/product/image": "/v/t45.5328-4"
}

const tokenPattern = /^[A-Za-z0-9_-]{43}$/
const uploadPattern = /^(\/[a-z-]+\/[a-z-]+)\/([^/]+)$/
const downloadPattern = /^\/v\/[^/]+\/([0-9]+_[0-9]+_n)\.(enc|jpg)$/

const toBase64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

// A blob's id follows from its SHA-256, so the same blob uploaded twice is the same object.
const blobId = (token: string): string => {
  const sha = Buffer.from(token, "base64url")
  return `${sha.readUInt32BE(0)}_${sha.readBigUInt64BE(4)}_n`
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): CdnResponse => {
  const bytes = utf8.encode(JSON.stringify(body))
  return {
    _tag: "Response",
    status,
    headers: { "content-type": "application/json", "content-length": String(bytes.length), ...headers },
    body: bytes.length === 0 ? Stream.empty : Stream.succeed(bytes),
    ending: "Complete"
  }
}

const empty = (status: number): CdnResponse => ({
  _tag: "Response",
  status,
  headers: { "content-length": "0" },
  body: Stream.empty,
  ending: "Complete"
})

const dropped: CdnDropped = { _tag: "Dropped" }

const redactAuth = (url: URL): string => {
  const params = new URLSearchParams(url.search)
  params.delete("auth")
  const query = params.toString()
  return query === "" ? url.pathname : `${url.pathname}?${query}`
}

const ControlFaults = Schema.Struct({
  host: Schema.optional(Schema.String),
  fault: Schema.optional(Fault),
  faults: Schema.optional(Schema.Array(Fault))
})

const decodeControlFaults = Schema.decodeUnknownEither(Schema.parseJson(ControlFaults))

interface QueuedFault {
  readonly fault: Fault
  left: number
}

/** @internal */
export const make = (options: CdnOptions): Effect.Effect<Cdn> =>
  Effect.gen(function*() {
    const clock = yield* Effect.clock
    const store = options.dir === undefined ? memoryStore : dirStore(options.dir)
    const tokenTtl = options.tokenTtlSeconds ?? 21600
    const linkTtl = options.linkTtlSeconds ?? 14 * 24 * 3600
    const mediaConnTtl = options.mediaConnTtlSeconds ?? 300
    const hosts = options.hosts
    if (hosts.length === 0) return yield* Effect.dieMessage("a CDN needs at least one host")

    const secret = options.dir === undefined
      ? Crypto.randomBytes(32)
      : yield* Effect.promise(async () => {
        // Kept in the folder so links stay valid across restarts of `wa-media serve --dir`.
        const file = Path.join(options.dir!, "secret")
        await Fs.mkdir(options.dir!, { recursive: true })
        try {
          return await Fs.readFile(file)
        } catch {
          const fresh = Crypto.randomBytes(32)
          await Fs.writeFile(file, fresh, { mode: 0o600 })
          return fresh
        }
      })

    const entries = new Map<string, Entry>() // by token
    const byId = new Map<string, string>() // id -> token
    const partials = new Map<string, Partial>() // by token
    const tokens = new Map<string, number>() // auth -> expiry (ms)
    const faults = new Map<string, Array<QueuedFault>>()
    const records: Array<RecordedRequest> = []
    let linkSkewSeconds = 0

    for (const found of yield* store.load) {
      const id = blobId(found.token)
      entries.set(found.token, {
        token: found.token,
        id,
        uploadPath: "/mms/image",
        length: found.length,
        data: found.data
      })
      byId.set(id, found.token)
    }

    const nowMillis = clock.currentTimeMillis
    const linkNow = Effect.map(nowMillis, (ms) => Math.floor(ms / 1000) + linkSkewSeconds)

    const sign = (pathname: string, oe: string): string =>
      `01_${toBase64Url(Crypto.createHmac("sha256", secret).update(`${pathname}:${oe}`).digest().subarray(0, 24))}`

    const link = (entry: Entry, host: string) =>
      Effect.map(linkNow, (now): StoredBlob => {
        const ext = entry.uploadPath === "/product/image" ? "jpg" : "enc"
        const pathname = `${pathPrefix[entry.uploadPath] ?? "/v/t62.7118-24"}/${entry.id}.${ext}`
        const oe = (now + linkTtl).toString(16).toUpperCase()
        const directPath = `${pathname}?ccb=11-4&oh=${sign(pathname, oe)}&oe=${oe}&_nc_sid=5e03e0`
        return {
          url: `${options.scheme}://${host}${directPath}&mms3=true`,
          directPath,
          token: entry.token,
          length: entry.length
        }
      })

    const commit = (partial: Partial, token: string, uploadPath: string) =>
      Effect.gen(function*() {
        const existing = entries.get(token)
        if (existing !== undefined) {
          yield* partial.discard
          return existing
        }
        const data = yield* partial.commit(token)
        const entry: Entry = { token, id: blobId(token), uploadPath, length: partial.length, data }
        entries.set(token, entry)
        byId.set(entry.id, token)
        return entry
      })

    const mediaConn = Effect.gen(function*() {
      const auth = Crypto.randomBytes(24).toString("base64")
      const now = yield* nowMillis
      for (const [token, expiry] of tokens) if (expiry <= now) tokens.delete(token)
      tokens.set(auth, now + tokenTtl * 1000)
      const reply: MediaConnJson = {
        auth,
        ttl: mediaConnTtl,
        auth_ttl: tokenTtl,
        max_buckets: 12,
        hosts: hosts.map((hostname, i) =>
          i === 0
            ? (hosts.length > 1
              ? { hostname, type: "primary" as const, fallback_hostname: hosts[1]! }
              : { hostname, type: "primary" as const })
            : { hostname, type: "fallback" as const }
        )
      }
      return reply
    })

    const validAuth = (auth: string | null) =>
      Effect.map(nowMillis, (now) => {
        if (auth === null) return false
        const expiry = tokens.get(auth)
        return expiry !== undefined && now < expiry
      })

    const takeFault = (host: string, kind: RequestKind): Fault | undefined => {
      const queue = faults.get(host)
      if (queue === undefined) return undefined
      const index = queue.findIndex(({ fault }) =>
        fault.on === undefined ? kind === "upload" || kind === "download" : fault.on === kind
      )
      if (index < 0) return undefined
      const queued = queue[index]!
      if (--queued.left <= 0) queue.splice(index, 1)
      return queued.fault
    }

    const injectFaults = (list: ReadonlyArray<Fault>, host?: string) =>
      Effect.sync(() => {
        for (const target of host === undefined ? [hosts[0]!] : [host]) {
          const queue = faults.get(target) ?? []
          for (const fault of list) queue.push({ fault, left: fault.times ?? 1 })
          faults.set(target, queue)
        }
      })

    const clearFaults = (host?: string) =>
      Effect.sync(() => {
        if (host === undefined) faults.clear()
        else faults.delete(host)
      })

    const record = (request: CdnRequest, url: URL, kind: RequestKind, fault: Fault | undefined) =>
    (
      status: number | undefined,
      bytes: number
    ) =>
      Effect.sync(() => {
        records.push({
          host: request.host,
          method: request.method,
          kind,
          path: redactAuth(url),
          status,
          range: request.headers["range"],
          bytes,
          fault: fault?._tag
        })
      })

    // Applies a response-side fault to a reply and records it, just before the transport sees it.
    const finish = (
      reply: CdnResponse,
      fault: Fault | undefined,
      recordAs: (status: number | undefined, bytes: number) => Effect.Effect<void>,
      bodyLength: number
    ): Effect.Effect<CdnReply> => {
      if (fault?._tag === "Drop" && fault.afterBytes < bodyLength) {
        return Effect.as(recordAs(reply.status, fault.afterBytes), {
          ...reply,
          body: takeBytes(reply.body, fault.afterBytes),
          ending: "Drop" as const
        })
      }
      if (fault?._tag === "Stall") {
        const afterBytes = Math.min(fault.afterBytes ?? 0, bodyLength)
        return Effect.as(recordAs(reply.status, afterBytes), {
          ...reply,
          body: takeBytes(reply.body, afterBytes),
          ending: "Stall" as const
        })
      }
      if (fault?._tag === "FlipByte" && fault.offset < bodyLength) {
        return Effect.as(recordAs(reply.status, bodyLength), { ...reply, body: flipByteAt(reply.body, fault.offset) })
      }
      return Effect.as(recordAs(reply.status, bodyLength), reply)
    }

    const bodyLengthOf = (reply: CdnResponse): number => Number(reply.headers["content-length"] ?? "0")

    const download = (request: CdnRequest, url: URL, id: string, fault: Fault | undefined) =>
      Effect.gen(function*() {
        const token = byId.get(id)
        const entry = token === undefined ? undefined : entries.get(token)
        if (entry === undefined) return json(404, { error: "not found" })
        const oh = url.searchParams.get("oh")
        const oe = url.searchParams.get("oe")
        if (oh === null || oe === null || !/^[0-9A-Fa-f]{1,12}$/.test(oe)) {
          return json(403, { error: "URL signature mismatch" })
        }
        const expected = Buffer.from(sign(url.pathname, oe))
        const given = Buffer.from(oh)
        if (expected.length !== given.length || !Crypto.timingSafeEqual(expected, given)) {
          return json(403, { error: "URL signature mismatch" })
        }
        if (parseInt(oe, 16) <= (yield* linkNow)) return json(410, { error: "URL signature expired" })
        const length = entry.length
        const headers = { "content-type": "application/octet-stream", "accept-ranges": "bytes" }
        const range = fault?._tag === "IgnoreRange" ? undefined : request.headers["range"]
        const match = range === undefined ? null : /^bytes=(\d+)-(\d*)$/.exec(range.trim())
        if (match !== null) {
          const start = Number(match[1])
          const last = match[2] === "" ? length - 1 : Math.min(Number(match[2]), length - 1)
          if (start >= length || last < start) {
            return json(416, { error: "range not satisfiable" }, { "content-range": `bytes */${length}` })
          }
          return {
            _tag: "Response",
            status: 206,
            headers: {
              ...headers,
              "content-length": String(last + 1 - start),
              "content-range": `bytes ${start}-${last}/${length}`
            },
            body: store.read(entry.data, start, last + 1),
            ending: "Complete"
          } satisfies CdnResponse
        }
        return {
          _tag: "Response",
          status: 200,
          headers: { ...headers, "content-length": String(length) },
          body: store.read(entry.data, 0, length),
          ending: "Complete"
        } satisfies CdnResponse
      })

    // Reads an upload body into a partial; returns whether the body ended normally.
    const receive = (partial: Partial, body: Stream.Stream<Uint8Array, unknown>) =>
      body.pipe(
        Stream.runForEachChunk(partial.write),
        Effect.match({ onFailure: () => false, onSuccess: () => true }),
        Effect.ensuring(partial.close)
      )

    const upload = (
      request: CdnRequest,
      url: URL,
      uploadPath: string,
      pathToken: string,
      fault: Fault | undefined,
      recordAs: (status: number | undefined, bytes: number) => Effect.Effect<void>
    ) =>
      Effect.gen(function*() {
        const reply = (response: CdnResponse, bytes = 0) => Effect.as(recordAs(response.status, bytes), response)
        const params = url.searchParams
        if (!(yield* validAuth(params.get("auth")))) return yield* reply(json(401, { error: "unauthorized" }))
        const token = params.get("token")
        if (token !== pathToken || !tokenPattern.test(token)) {
          return yield* reply(json(400, { error: "bad token" }))
        }
        const host = request.host
        if (params.get("resume") === "1") {
          const entry = entries.get(token)
          if (entry !== undefined) {
            const stored = yield* link(entry, host)
            return yield* reply(json(200, { resume: "complete", url: stored.url, direct_path: stored.directPath }))
          }
          return yield* reply(json(200, { resume: String(partials.get(token)?.length ?? 0) }))
        }
        if (request.contentLength === undefined) return yield* reply(json(411, { error: "length required" }))
        const offsetParam = params.get("file_offset")
        const offset = offsetParam === null ? 0 : /^\d+$/.test(offsetParam) ? Number(offsetParam) : -1
        const held = partials.get(token)
        if (offset !== 0 && (held === undefined || held.length !== offset)) {
          return yield* reply(json(400, { error: "file_offset does not match", resume: String(held?.length ?? 0) }))
        }
        if (offset + request.contentLength > store.maxLength) {
          // The body stays unread: close the connection rather than drain it.
          return yield* reply(json(413, { error: "blob too large for this store" }, { connection: "close" }))
        }
        let partial: Partial
        if (offset === 0) {
          if (held !== undefined) yield* held.discard
          partial = yield* store.partial(request.contentLength)
        } else {
          partial = held!
          partial.reserve(request.contentLength)
        }
        partials.set(token, partial)
        let body = request.body
        if (fault?._tag === "FlipByte") body = flipByteAt(body, fault.offset)
        const cut = fault?._tag === "Drop" && fault.afterBytes < request.contentLength
        if (cut) body = takeBytes(body, fault.afterBytes)
        const complete = yield* receive(partial, body)
        const received = partial.length - offset
        if (cut || !complete || received < request.contentLength) {
          // The connection broke off: what arrived stays held for a resume.
          yield* recordAs(undefined, received)
          return dropped
        }
        const current = partials.get(token) === partial
        if (current) partials.delete(token)
        const digest = toBase64Url(partial.hash.copy().digest())
        if (received !== request.contentLength || digest !== token) {
          yield* partial.discard
          return yield* reply(json(400, { error: "token does not match the body's SHA-256" }), received)
        }
        const entry = yield* commit(partial, token, uploadPath)
        const stored = yield* link(entry, host)
        return yield* reply(
          json(200, {
            url: stored.url,
            direct_path: stored.directPath,
            ...(uploadPath === "/product/image" ? { handle: `${entry.id}-handle` } : {})
          }),
          received
        )
      })

    const readJson = (body: Stream.Stream<Uint8Array, unknown>) =>
      body.pipe(
        (stream) => takeBytes(stream, 1024 * 1024),
        Stream.decodeText(),
        Stream.mkString,
        Effect.option
      )

    const control = (request: CdnRequest, url: URL) =>
      Effect.gen(function*() {
        const route = `${request.method} ${url.pathname}`
        const host = url.searchParams.get("host") ?? undefined
        switch (route) {
          case "POST /_control/faults": {
            const text = yield* readJson(request.body)
            const decoded = decodeControlFaults(Option.getOrElse(text, () => ""))
            if (decoded._tag === "Left") return json(400, { error: "malformed faults" })
            const { fault, faults: list } = decoded.right
            const all = [...(fault === undefined ? [] : [fault]), ...(list ?? [])]
            yield* injectFaults(all, decoded.right.host ?? host ?? request.host)
            return empty(204)
          }
          case "DELETE /_control/faults":
            yield* clearFaults(host)
            return empty(204)
          case "GET /_control/requests":
            return json(200, records)
          case "DELETE /_control/requests":
            records.length = 0
            return empty(204)
          case "POST /_control/expire-links":
            yield* expireLinks
            return empty(204)
          case "POST /_control/revoke-auth":
            yield* revokeAuth
            return empty(204)
          default:
            return json(404, { error: "no such control" })
        }
      })

    const expireLinks = Effect.sync(() => {
      // Moves the links' own clock past every expiry issued so far; new links are valid again.
      linkSkewSeconds += linkTtl + 1
    })

    const revokeAuth = Effect.sync(() => tokens.clear())

    const handle = (request: CdnRequest): Effect.Effect<CdnReply> =>
      Effect.gen(function*() {
        let url: URL
        try {
          url = new URL(request.url, "http://cdn.invalid")
        } catch {
          return json(400, { error: "bad url" })
        }
        if (url.pathname.startsWith("/_control/")) return yield* control(request, url)
        const uploadMatch = uploadPattern.exec(url.pathname)
        const downloadMatch = downloadPattern.exec(url.pathname)
        const kind: RequestKind = url.pathname === "/media_conn"
          ? "media_conn"
          : uploadMatch !== null && uploadPaths.has(uploadMatch[1]!)
          ? "upload"
          : downloadMatch !== null
          ? "download"
          : "other"
        const fault = takeFault(request.host, kind)
        const recordAs = record(request, url, kind, fault)
        if (fault?._tag === "Status") {
          return yield* finish(json(fault.status, { error: "injected fault" }), undefined, recordAs, 0)
        }
        switch (kind) {
          case "media_conn": {
            if (request.method !== "GET") break
            const reply = json(200, yield* mediaConn)
            return yield* finish(reply, fault, recordAs, bodyLengthOf(reply))
          }
          case "upload": {
            if (request.method !== "POST") break
            if (fault?._tag === "Stall") {
              yield* recordAs(undefined, 0)
              return yield* Effect.never
            }
            return yield* upload(request, url, uploadMatch![1]!, uploadMatch![2]!, fault, recordAs)
          }
          case "download": {
            if (request.method !== "GET") break
            const reply = yield* download(request, url, downloadMatch![1]!, fault)
            return yield* finish(reply, reply.status < 300 ? fault : undefined, recordAs, bodyLengthOf(reply))
          }
          case "other":
            return yield* finish(json(404, { error: "not found" }), undefined, recordAs, 0)
        }
        return yield* finish(json(405, { error: "method not allowed" }), undefined, recordAs, 0)
      })

    const put = <E>(
      blob: Uint8Array | Stream.Stream<Uint8Array, E>,
      putOptions?: { readonly uploadPath?: string | undefined; readonly host?: string | undefined }
    ): Effect.Effect<StoredBlob, E> =>
      Effect.gen(function*() {
        const uploadPath = putOptions?.uploadPath ?? "/mms/image"
        if (!uploadPaths.has(uploadPath)) return yield* Effect.dieMessage(`unknown upload path ${uploadPath}`)
        const partial = yield* store.partial(blob instanceof Uint8Array ? blob.length : CHUNK)
        const body: Stream.Stream<Uint8Array, E> = blob instanceof Uint8Array ? slices(blob, 0, blob.length) : blob
        yield* Stream.runForEachChunk(body, partial.write).pipe(
          Effect.ensuring(partial.close),
          Effect.tapErrorCause(() => partial.discard)
        )
        const token = toBase64Url(partial.hash.copy().digest())
        const entry = yield* commit(partial, token, uploadPath)
        return yield* link(entry, putOptions?.host ?? hosts[0]!)
      })

    const remove = (directPath: string) =>
      Effect.gen(function*() {
        const match = downloadPattern.exec(new URL(directPath, "http://cdn.invalid").pathname)
        const token = match === null ? undefined : byId.get(match[1]!)
        const entry = token === undefined ? undefined : entries.get(token)
        if (entry === undefined) return false
        entries.delete(entry.token)
        byId.delete(entry.id)
        yield* store.remove(entry.data)
        return true
      })

    return {
      hosts,
      handle,
      mediaConn,
      injectFaults,
      clearFaults,
      requests: Effect.sync(() => records.slice()),
      clearRequests: Effect.sync(() => {
        records.length = 0
      }),
      put,
      remove,
      expireLinks,
      revokeAuth
    } satisfies Cdn
  })

/** @internal */
export const control = (cdn: Cdn): CdnControl => ({
  hosts: cdn.hosts,
  mediaConn: cdn.mediaConn,
  injectFault: (fault, options) => cdn.injectFaults([fault], options?.host),
  injectFaults: (faults, options) => cdn.injectFaults(faults, options?.host),
  clearFaults: cdn.clearFaults,
  requests: cdn.requests,
  clearRequests: cdn.clearRequests,
  put: cdn.put,
  remove: cdn.remove,
  expireLinks: cdn.expireLinks,
  revokeAuth: cdn.revokeAuth
})
