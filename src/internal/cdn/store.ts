/**
 * The CDN's blob store: the blobs by token and by id, the uploads held for a resume, and the
 * signing secret, over one of two backends: memory (one `Uint8Array` per blob) or a folder
 * (`blobs/<token>`, `partial/…`, `secret`), which keeps blobs and links across restarts.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"

const CHUNK = 64 * 1024

/** Where a blob's bytes are. @internal */
export type Data =
  | { readonly _tag: "Memory"; readonly bytes: Uint8Array }
  | { readonly _tag: "File"; readonly path: string }

/** A stored blob: its token (`base64url(SHA-256)`), the id its direct path names, and its bytes. @internal */
export interface Blob {
  readonly token: string
  readonly id: string
  readonly uploadPath: string
  readonly length: number
  readonly data: Data
}

/** An upload in progress or broken off: what was received so far for one token. @internal */
export interface PartialBlob {
  length: number
  readonly hash: Crypto.Hash
  /** Appends a batch of chunks (one write call for the whole batch). */
  readonly write: (chunks: Chunk.Chunk<Uint8Array>) => Effect.Effect<void>
  readonly reserve: (extra: number) => void
  readonly close: Effect.Effect<void>
  readonly commit: (token: string) => Effect.Effect<Data>
  readonly discard: Effect.Effect<void>
}

/** Where bytes are kept: memory or a folder. @internal */
interface Backend {
  /** The largest blob the backend takes. */
  readonly maxLength: number
  readonly load: Effect.Effect<ReadonlyArray<{ token: string; length: number; data: Data }>>
  readonly secret: Effect.Effect<Uint8Array>
  readonly partial: (capacity: number) => Effect.Effect<PartialBlob>
  readonly remove: (data: Data) => Effect.Effect<void>
}

/** The store both transports' routes and the control API work on. @internal */
export interface Store {
  readonly maxLength: number
  /** The secret links are signed with (kept in the folder, so links outlive a restart). */
  readonly secret: Uint8Array
  readonly byToken: (token: string) => Blob | undefined
  readonly byId: (id: string) => Blob | undefined
  /** A new partial upload, sized for `capacity` bytes. */
  readonly partial: (capacity: number) => Effect.Effect<PartialBlob>
  /** Stores a complete upload under its token; a blob already stored wins and the partial goes. */
  readonly commit: (partial: PartialBlob, token: string, uploadPath: string) => Effect.Effect<Blob>
  readonly read: (blob: Blob, start: number, end: number) => Stream.Stream<Uint8Array>
  readonly remove: (blob: Blob) => Effect.Effect<void>
  /** The partial uploads held for a resume, by token. */
  readonly held: Map<string, PartialBlob>
}

/** The bytes `[start, end)` of an array, in 64 KiB slices. @internal */
export const slices = (bytes: Uint8Array, start: number, end: number): Stream.Stream<Uint8Array> =>
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

const memory: Backend = {
  // One Uint8Array per blob.
  maxLength: 2 ** 31 - 1,
  load: Effect.succeed([]),
  secret: Effect.sync(() => Crypto.randomBytes(32)),
  partial: (capacity) =>
    Effect.sync(() => {
      let buffer = new Uint8Array(capacity)
      const partial: PartialBlob = {
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
  remove: () => Effect.void
}

const folder = (dir: string): Backend => {
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
    secret: Effect.promise(async () => {
      // Kept in the folder so links stay valid across restarts of `wa-media serve --dir`.
      const file = Path.join(dir, "secret")
      await Fs.mkdir(dir, { recursive: true })
      try {
        return await Fs.readFile(file)
      } catch {
        const fresh = Crypto.randomBytes(32)
        await Fs.writeFile(file, fresh, { mode: 0o600 })
        return fresh
      }
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
        const partial: PartialBlob = {
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
    remove: (data) => data._tag === "File" ? Effect.promise(() => Fs.rm(data.path, { force: true })) : Effect.void
  }
}

/** `base64url`, the alphabet of tokens and signatures. @internal */
export const toBase64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

// A blob's id follows from its SHA-256, so the same blob uploaded twice is the same object.
const blobId = (token: string): string => {
  const sha = Buffer.from(token, "base64url")
  return `${sha.readUInt32BE(0)}_${sha.readBigUInt64BE(4)}_n`
}

/**
 * Opens the store: in memory, or in `dir` with the blobs found there (as `/mms/image` uploads).
 *
 * @internal
 */
export const make = (dir: string | undefined): Effect.Effect<Store> =>
  Effect.gen(function*() {
    const backend = dir === undefined ? memory : folder(dir)
    const secret = yield* backend.secret
    const tokens = new Map<string, Blob>()
    const ids = new Map<string, string>() // id -> token
    const add = (blob: Blob) => {
      tokens.set(blob.token, blob)
      ids.set(blob.id, blob.token)
      return blob
    }
    for (const found of yield* backend.load) {
      add({
        token: found.token,
        id: blobId(found.token),
        uploadPath: "/mms/image",
        length: found.length,
        data: found.data
      })
    }
    return {
      maxLength: backend.maxLength,
      secret,
      byToken: (token) => tokens.get(token),
      byId: (id) => {
        const token = ids.get(id)
        return token === undefined ? undefined : tokens.get(token)
      },
      partial: backend.partial,
      commit: (partial, token, uploadPath) =>
        Effect.gen(function*() {
          const existing = tokens.get(token)
          if (existing !== undefined) {
            yield* partial.discard
            return existing
          }
          const data = yield* partial.commit(token)
          return add({ token, id: blobId(token), uploadPath, length: partial.length, data })
        }),
      read: (blob, start, end) =>
        blob.data._tag === "Memory" ? slices(blob.data.bytes, start, end) : readFileRange(blob.data.path, start, end),
      remove: (blob) =>
        Effect.suspend(() => {
          tokens.delete(blob.token)
          ids.delete(blob.id)
          return backend.remove(blob.data)
        }),
      held: new Map()
    }
  })
