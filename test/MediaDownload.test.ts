import { HttpClient } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  Chunk,
  Context,
  Deferred,
  Effect,
  Fiber,
  Layer,
  Option,
  Redacted,
  Ref,
  Sink,
  Stream,
  SubscriptionRef,
  TestClock
} from "effect"
import type { Duration, Scope } from "effect"
import { MediaConn, MediaCrypto, MediaDownload, MediaEncryptor, MediaType } from "effect-wa-media"
import type { CdnControl } from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import { createHash, randomBytes } from "node:crypto"
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough, Writable } from "node:stream"
import * as Hashing from "../src/internal/hashing.js"
import * as Turns from "../src/internal/turns.js"
import { pseudoRandomBytes } from "./bytes.js"

const [primary, fallback] = FakeCdn.defaultHosts as [string, string]

interface World {
  readonly cdn: CdnControl.CdnControl
  readonly download: MediaDownload.MediaDownload["Type"]
  /** How many times the media connection source ran. */
  readonly fetches: Ref.Ref<number>
}

/**
 * A fake CDN, a media connection over it and the download service. `hostsPerFetch` makes the
 * n-th media connection list only those hosts (to see URLs rebuilt from new hosts).
 */
const world = (
  hostsPerFetch?: ReadonlyArray<ReadonlyArray<string>>,
  crypto: Layer.Layer<MediaCrypto.MediaCrypto> = MediaCrypto.layer,
  options: MediaDownload.LayerOptions = {}
): Effect.Effect<World, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { cdn, client } = yield* FakeCdn.make()
    const fetches = yield* Ref.make(0)
    const source = Effect.gen(function*() {
      const n = yield* Ref.getAndUpdate(fetches, (k) => k + 1)
      const json = yield* cdn.mediaConn
      const hosts = hostsPerFetch?.[Math.min(n, hostsPerFetch.length - 1)]
      return yield* MediaConn.fromValue(
        hosts === undefined ? json : {
          ...json,
          hosts: hosts.map((hostname) => ({ hostname, type: "primary" as const }))
        }
      )
    })
    const context = yield* Layer.build(
      MediaDownload.layerWith(options).pipe(
        Layer.provide(Layer.mergeAll(
          MediaConn.layer(source),
          Layer.succeed(HttpClient.HttpClient, client),
          crypto
        ))
      )
    )
    return { cdn, download: Context.get(context, MediaDownload.MediaDownload), fetches }
  })

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest())

interface Prepared {
  readonly plaintext: Uint8Array
  readonly blob: Uint8Array
  readonly directPath: string
  readonly url: string
  readonly mediaKey: Uint8Array
  readonly fileSha256: Uint8Array
  readonly fileEncSha256: Uint8Array
}

const prepare = (cdn: CdnControl.CdnControl, length: number, type: MediaType.MediaType = "image", seed = 1) =>
  Effect.gen(function*() {
    const plaintext = pseudoRandomBytes(seed, length)
    const mediaKey = new Uint8Array(randomBytes(32))
    const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: type, mediaKey })
    const stored = yield* cdn.put(blob, { uploadPath: MediaType.info(type).uploadPath })
    return {
      plaintext,
      blob,
      directPath: stored.directPath,
      url: stored.url,
      mediaKey,
      fileSha256: result.fileSha256,
      fileEncSha256: result.fileEncSha256
    } satisfies Prepared
  })

/** The content of a message for a prepared blob, without `url` so that only hosts are tried. */
const content = (p: Prepared) => ({
  directPath: p.directPath,
  mediaKey: p.mediaKey,
  fileSha256: p.fileSha256,
  fileEncSha256: p.fileEncSha256,
  fileLength: p.plaintext.length
})

const downloads = (cdn: CdnControl.CdnControl) =>
  Effect.map(cdn.requests, (requests) => requests.filter((r) => r.kind === "download"))

const settle = Effect.repeatN(Effect.yieldNow(), 200)

/** Runs `effect` while moving the TestClock on in steps once the in-memory world has settled. */
const withClock = <A, E>(effect: Effect.Effect<A, E>, step: Duration.DurationInput = "30 seconds") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 20; i++) {
      yield* settle
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

/** Pulls a stream's `pull` to its end into `received`, running `between` after each chunk. */
const pullAll = <E>(
  pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<E>>,
  received: Array<Uint8Array>,
  between: Effect.Effect<void> = Effect.void
): Effect.Effect<void, E> =>
  Effect.matchEffect(pull, {
    onFailure: Option.match({ onNone: () => Effect.void, onSome: Effect.fail }),
    onSuccess: (chunk) =>
      Effect.sync(() => received.push(...chunk)).pipe(
        Effect.zipRight(between),
        Effect.zipRight(pullAll(pull, received, between))
      )
  })

const withDir = <A, E, R>(use: (dir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "wa-media-download-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("MediaDownload", () => {
  describe("URLs and sources", () => {
    it.scoped("downloads a wrapped message with the URL of PROTOCOL.md section 6", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 200_000)
        const bytes = yield* download.bytes({ imageMessage: content(p) })
        assert.deepStrictEqual(bytes, p.plaintext)
        const [request] = yield* downloads(cdn)
        assert.strictEqual(request!.host, primary)
        assert.strictEqual(request!.range, undefined)
        const hash = Buffer.from(p.fileEncSha256).toString("base64url")
        assert.strictEqual(request!.path, `${p.directPath}&hash=${hash}&mms-type=image&__wa-mms=`)
      }))

    it.scoped("sends its first request while the hash session is still opening", () =>
      Effect.gen(function*() {
        // A session that opens only once the test says so, as one waiting for a worker to start.
        const gate = yield* Deferred.make<void>()
        const gated = Layer.scoped(
          MediaCrypto.MediaCrypto,
          Effect.map(MediaCrypto.make({ workers: 0 }), (crypto) =>
            MediaCrypto.MediaCrypto.of({
              ...crypto,
              openHashes: (keys, size, direction) =>
                Effect.zipRight(Deferred.await(gate), crypto.openHashes(keys, size, direction))
            }))
        )
        const { cdn, download } = yield* world(undefined, gated)
        const p = yield* prepare(cdn, 50_000)
        const fiber = yield* Effect.fork(download.bytes({ imageMessage: content(p) }))
        yield* settle
        assert.strictEqual((yield* downloads(cdn)).length, 1, "no request went out while the session was opening")
        yield* Deferred.succeed(gate, undefined)
        assert.deepStrictEqual(yield* Fiber.join(fiber), p.plaintext)
      }))

    it.scoped("tries the message's https url first", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 1000)
        yield* cdn.injectFault({ _tag: "Status", status: 500 })
        const bytes = yield* download.bytes({ imageMessage: { ...content(p), url: p.url } })
        assert.deepStrictEqual(bytes, p.plaintext)
        const requests = yield* downloads(cdn)
        // The url (on the primary) failed with 500; it stood in for the primary, so the fallback is next.
        assert.deepStrictEqual(requests.map((r) => [r.host, r.status]), [[primary, 500], [fallback, 200]])
        assert.isTrue(requests[0]!.path.includes("mms3=true"))
        assert.isFalse(requests[1]!.path.includes("mms3=true"))
      }))

    it.scoped("takes raw parameters, base64 values and a Downloadable", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 5000, "document")
        const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")
        const fromParams = yield* download.bytes({
          type: "document",
          directPath: p.directPath,
          mediaKey: b64(p.mediaKey),
          fileEncSha256: b64(p.fileEncSha256),
          fileSha256: b64(p.fileSha256)
        })
        assert.deepStrictEqual(fromParams, p.plaintext)
        const fromModel = yield* download.bytes({
          mediaType: "document",
          directPath: p.directPath,
          mediaKey: Redacted.make(p.mediaKey),
          fileSha256: p.fileSha256
        })
        assert.deepStrictEqual(fromModel, p.plaintext)
        const inner = yield* download.bytes(content(p), { type: "document" })
        assert.deepStrictEqual(inner, p.plaintext)
      }))

    it.scoped("reads every message kind, lengths as number, bigint or Long and bytes as base64", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")
        const kinds: ReadonlyArray<readonly [MediaType.MediaType, (c: Record<string, unknown>) => unknown]> = [
          ["image", (c) => ({ imageMessage: c })],
          ["video", (c) => ({ videoMessage: c })],
          ["video", (c) => ({ ptvMessage: c })],
          ["audio", (c) => ({ audioMessage: { ...c, ptt: true } })],
          ["document", (c) => ({ documentWithCaptionMessage: { message: { documentMessage: c } } })],
          ["sticker", (c) => ({ stickerMessage: c })],
          ["sticker-pack", (c) => ({ stickerPackMessage: c })],
          ["history", (c) => ({ protocolMessage: { historySyncNotification: c } })],
          ["app-state", (c) => {
            const { fileLength, ...rest } = c
            return { ...rest, fileSizeBytes: fileLength }
          }]
        ]
        let seed = 10
        for (const [type, wrap] of kinds) {
          const p = yield* prepare(cdn, 3000 + seed, type, seed)
          const lengths = [p.plaintext.length, BigInt(p.plaintext.length), {
            low: p.plaintext.length,
            high: 0,
            unsigned: true
          }]
          const message = wrap({
            directPath: p.directPath,
            mediaKey: seed % 2 === 0 ? b64(p.mediaKey) : p.mediaKey,
            fileSha256: b64(p.fileSha256),
            fileEncSha256: p.fileEncSha256,
            fileLength: lengths[seed % 3]
          })
          const bytes = yield* download.bytes(message as MediaDownload.Source)
          assert.deepStrictEqual(bytes, p.plaintext, type)
          const last = (yield* downloads(cdn)).at(-1)!
          assert.isTrue(last.path.includes(`mms-type=${MediaType.info(type).mmsType}&`), last.path)
          seed++
        }
      }))

    it.scoped("downloads server-hosted thumbnails with the parent's key and the *-thumbnail types", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const mediaKey = new Uint8Array(randomBytes(32))
        const cases = [
          ["imageMessage", "image-thumbnail", "thumbnail-image"],
          ["videoMessage", "video-thumbnail", "thumbnail-video"],
          ["documentMessage", "document-thumbnail", "thumbnail-document"],
          ["extendedTextMessage", "link-thumbnail", "thumbnail-link"]
        ] as const
        for (const [kind, type, mmsType] of cases) {
          const thumbnail = pseudoRandomBytes(kind.length, 4000)
          const { blob, result } = yield* MediaEncryptor.encryptBytes(thumbnail, { mediaType: type, mediaKey })
          const stored = yield* cdn.put(blob, { uploadPath: MediaType.info(type).uploadPath })
          const message = {
            [kind]: {
              ...(kind === "extendedTextMessage" ? { text: "https://example.com" } : { directPath: "/v/parent.enc" }),
              mediaKey,
              thumbnailDirectPath: stored.directPath,
              thumbnailSha256: result.fileSha256,
              thumbnailEncSha256: result.fileEncSha256
            }
          }
          const bytes = yield* download.bytes(message, { thumbnail: kind !== "extendedTextMessage" })
          assert.deepStrictEqual(bytes, thumbnail, kind)
          const last = (yield* downloads(cdn)).at(-1)!
          assert.isTrue(last.path.includes(`mms-type=${mmsType}&`), last.path)
        }
      }))

    it.scoped("channel media: no media key, SHA-256 check, staticUrl used as is", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const plaintext = pseudoRandomBytes(3, 100_000)
        const stored = yield* cdn.put(plaintext)
        const fileSha256 = sha256(plaintext)
        const staticUrl = `https://${fallback}${stored.directPath}`
        const viaStatic = yield* download.bytes({ imageMessage: { staticUrl, fileSha256, fileLength: 100_000 } })
        assert.deepStrictEqual(viaStatic, plaintext)
        const viaHosts = yield* download.bytes({ imageMessage: { directPath: stored.directPath, fileSha256 } })
        assert.deepStrictEqual(viaHosts, plaintext)
        const requests = yield* downloads(cdn)
        assert.deepStrictEqual(requests.map((r) => r.host), [fallback, primary])
        assert.strictEqual(requests[0]!.path, stored.directPath)
        assert.isTrue(requests[1]!.path.includes(`hash=${Buffer.from(fileSha256).toString("base64url")}`))
        const wrong = yield* Effect.flip(
          download.bytes({ imageMessage: { staticUrl, fileSha256: sha256(new Uint8Array(1)) } })
        )
        assert.strictEqual(wrong._tag, "MediaIntegrityError")
        assert.strictEqual(wrong._tag === "MediaIntegrityError" && wrong.reason, "FileSha256")
      }))

    it.scoped("bad input is a typed error before any request", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        // A text message, as it arrives: no field the type of a media message knows.
        const noMedia = yield* Effect.flip(download.bytes(JSON.parse(`{ "conversation": "hi" }`)))
        assert.strictEqual(noMedia._tag, "MediaMessageError")
        const badKey = yield* Effect.flip(
          download.bytes({ imageMessage: { directPath: "/v/x.enc", mediaKey: new Uint8Array(5) } })
        )
        assert.strictEqual(badKey._tag, "InvalidMediaKey")
        const noThumb = yield* Effect.flip(
          download.bytes({ audioMessage: { directPath: "/v/x.enc" } }, { thumbnail: true })
        )
        assert.strictEqual(noThumb._tag, "MediaMessageError")
        assert.strictEqual((yield* downloads(cdn)).length, 0)
      }))
  })

  describe("failover and refresh", () => {
    it.scoped("moves to the next host on 5xx and 429, listing every attempt without the token", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 1000)
        yield* cdn.injectFault({ _tag: "Status", status: 503 })
        assert.deepStrictEqual(yield* download.bytes({ imageMessage: content(p) }), p.plaintext)
        yield* cdn.injectFault({ _tag: "Status", status: 429 })
        yield* cdn.injectFault({ _tag: "Status", status: 500 }, { host: fallback })
        const error = yield* Effect.flip(download.bytes({ imageMessage: content(p) }))
        assert.strictEqual(error._tag, "MediaDownloadError")
        if (error._tag !== "MediaDownloadError") return
        assert.strictEqual(error.reason, "AllHostsFailed")
        assert.deepStrictEqual(error.attempts.map((a) => [a.host, a.status]), [[primary, 429], [fallback, 500]])
        assert.strictEqual(
          error.message,
          `download failed (AllHostsFailed): ${primary} 429 server unavailable; ${fallback} 500 server unavailable`
        )
      }))

    it.scoped("refreshes once on 401 and rebuilds the URLs from the new hosts", () =>
      Effect.gen(function*() {
        const { cdn, download, fetches } = yield* world([[primary], [fallback]])
        const p = yield* prepare(cdn, 1000)
        yield* cdn.injectFault({ _tag: "Status", status: 401 })
        assert.deepStrictEqual(yield* download.bytes({ imageMessage: content(p) }), p.plaintext)
        const requests = yield* downloads(cdn)
        assert.deepStrictEqual(requests.map((r) => [r.host, r.status]), [[primary, 401], [fallback, 200]])
        assert.strictEqual(yield* Ref.get(fetches), 2)
      }))

    it.scoped("a second 401 fails as Unauthorized without trying more hosts", () =>
      Effect.gen(function*() {
        const { cdn, download, fetches } = yield* world()
        const p = yield* prepare(cdn, 1000)
        yield* cdn.injectFault({ _tag: "Status", status: 401, times: 2 })
        const error = yield* Effect.flip(download.bytes({ imageMessage: content(p) }))
        assert.strictEqual(error._tag, "MediaDownloadError")
        assert.strictEqual(error._tag === "MediaDownloadError" && error.reason, "Unauthorized")
        const requests = yield* downloads(cdn)
        assert.deepStrictEqual(requests.map((r) => [r.host, r.status]), [[primary, 401], [primary, 401]])
        assert.strictEqual(yield* Ref.get(fetches), 2)
      }))

    it.scoped("403 then 404 fails as NotFound; expired links fail as Expired", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 1000)
        yield* cdn.injectFaults([{ _tag: "Status", status: 403 }, { _tag: "Status", status: 404 }])
        const notFound = yield* Effect.flip(download.bytes({ imageMessage: content(p) }))
        assert.strictEqual(notFound._tag === "MediaDownloadError" && notFound.reason, "NotFound")
        yield* cdn.expireLinks
        const expired = yield* Effect.flip(download.bytes({ imageMessage: content(p) }))
        assert.strictEqual(expired._tag === "MediaDownloadError" && expired.reason, "Expired")
        if (expired._tag === "MediaDownloadError") {
          assert.deepStrictEqual(expired.attempts.map((a) => a.status), [410, 410])
        }
      }))

    it.scoped("an integrity failure on one host, then success on the next", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 300_000)
        yield* cdn.injectFault({ _tag: "FlipByte", offset: 1234 })
        assert.deepStrictEqual(yield* download.bytes({ imageMessage: content(p) }), p.plaintext)
        const requests = yield* downloads(cdn)
        assert.deepStrictEqual(requests.map((r) => [r.host, r.range]), [[primary, undefined], [fallback, undefined]])
      }))

    it.scoped("the same failed check on every host is the integrity error", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 1000)
        const error = yield* Effect.flip(
          download.bytes({ imageMessage: { ...content(p), fileSha256: sha256(new Uint8Array(3)) } })
        )
        assert.strictEqual(error._tag, "MediaIntegrityError")
        assert.strictEqual(error._tag === "MediaIntegrityError" && error.reason, "FileSha256")
      }))
  })

  describe("a file written by the hash worker", () => {
    type OpenHashes = MediaCrypto.MediaCrypto["Type"]["openHashes"]
    /** Every session on a worker, whatever the size, opened as `wrap` makes the pool's `openHashes`. */
    const workerSessions = (wrap: (open: OpenHashes) => OpenHashes) =>
      Layer.scoped(
        MediaCrypto.MediaCrypto,
        Effect.map(MediaCrypto.make({ workers: 1, threshold: 0 }), (crypto) =>
          MediaCrypto.MediaCrypto.of({ ...crypto, openHashes: wrap(crypto.openHashes) }))
      )

    // Every session on the worker, whatever the size: the worker writes the plaintext.
    const workerWrites = MediaCrypto.layerWith({ workers: 1, threshold: 0, slotSize: 64 * 1024 })

    it.scoped("writes the plaintext, and resumes and restarts as the output's own writes do", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world(undefined, workerWrites)
        const p = yield* prepare(cdn, 3_500_000)
        yield* withDir((dir) =>
          Effect.gen(function*() {
            const out = join(dir, "out")
            assert.strictEqual((yield* download.toFile({ imageMessage: content(p) }, out)).fileLength, 3_500_000)
            assert.deepStrictEqual(new Uint8Array(readFileSync(out)), p.plaintext)
            // A broken body resumes on the same session, at the same place in the file.
            yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 1_000_000 }, { _tag: "Drop", afterBytes: 700_000 }])
            const resumed = yield* download.toFile({ imageMessage: content(p) }, out)
            assert.strictEqual(resumed.resumes, 2)
            assert.deepStrictEqual(new Uint8Array(readFileSync(out)), p.plaintext)
            // A restart comes while the worker may still be writing the old session's slots: the
            // file is emptied only once they are written.
            yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 2_500_000 }, { _tag: "IgnoreRange" }])
            const restarted = yield* download.toFile({ imageMessage: content(p) }, out)
            assert.strictEqual(restarted.restarts, 1)
            assert.deepStrictEqual(new Uint8Array(readFileSync(out)), p.plaintext)
            // A blob that fails its MAC on one host starts over on the next.
            yield* cdn.injectFault({ _tag: "FlipByte", offset: 2_000_000 }, { host: primary })
            const other = yield* download.toFile({ imageMessage: content(p) }, out)
            assert.strictEqual(other.host, fallback)
            assert.deepStrictEqual(new Uint8Array(readFileSync(out)), p.plaintext)
            assert.deepStrictEqual(readdirSync(dir), ["out"])
          })
        ).pipe(Effect.provide(NodeFileSystem.layer))
      }))

    it.scoped("a restart empties the file only after the replaced session is closed", () =>
      Effect.gen(function*() {
        // The first session writes once more as it closes, past the end of the blob: a restart that
        // emptied the file before closing it would leave those bytes in the result.
        let sessions = 0
        const lateWriter = workerSessions((open) => (keys, size, direction, file) =>
          Effect.tap(open(keys, size, direction, file), () =>
            file === undefined || sessions++ > 0 ?
              Effect.void :
              Effect.addFinalizer(() =>
                Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20))).pipe(
                  Effect.zipRight(Effect.sync(() => writeSync(file.fd, Buffer.from("late"), 0, 4, 2_000_000)))
                )
              ))
        )
        const { cdn, download } = yield* world(undefined, lateWriter)
        const p = yield* prepare(cdn, 1_000_000)
        yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 400_000 }, { _tag: "IgnoreRange" }])
        yield* withDir((dir) =>
          Effect.gen(function*() {
            const summary = yield* download.toFile({ imageMessage: content(p) }, join(dir, "out"))
            assert.strictEqual(summary.restarts, 1)
            assert.strictEqual(sessions, 2)
            assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "out"))), p.plaintext)
          })
        ).pipe(Effect.provide(NodeFileSystem.layer))
      }))

    it.scoped("leaves the plaintext to the session: the output itself writes none of it", () =>
      Effect.gen(function*() {
        // The sessions write to a file of the test's instead of the download's: the download's file
        // then stays empty, and the test's holds the plaintext.
        const dir = mkdtempSync(join(tmpdir(), "wa-media-side-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const side = openSync(join(dir, "side"), "w")
        yield* Effect.addFinalizer(() => Effect.sync(() => closeSync(side)))
        const redirected = workerSessions((open) => (keys, size, direction, file) =>
          open(keys, size, direction, file === undefined ? undefined : { fd: side, position: 0 })
        )
        const { cdn, download } = yield* world(undefined, redirected)
        const p = yield* prepare(cdn, 1_000_000)
        const out = join(dir, "out")
        yield* download.toFile({ imageMessage: content(p) }, out)
        assert.strictEqual(readFileSync(out).length, 0)
        assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "side"))), p.plaintext)
      }))

    it.scoped("a write that failed at the worker is the output's typed error, and leaves no file", () =>
      Effect.gen(function*() {
        const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })
        // Sessions that say they write the file and whose writes fail, as on a full disk.
        const failing = Layer.succeed(
          MediaCrypto.MediaCrypto,
          MediaCrypto.fromRandomBytes((n) => new Uint8Array(randomBytes(n)), {
            openHashes: (keys) =>
              Effect.succeed({
                ...Hashing.inline(keys),
                writesFile: true,
                ready: () => Promise.reject(new Hashing.FileWriteFailure(full))
              })
          })
        )
        const { cdn, download } = yield* world(undefined, failing)
        const p = yield* prepare(cdn, 300_000)
        yield* withDir((dir) =>
          Effect.gen(function*() {
            const error = yield* Effect.flip(download.toFile({ imageMessage: content(p) }, join(dir, "out")))
            assert.strictEqual(error._tag, "MediaFileError")
            assert.strictEqual(error._tag === "MediaFileError" && error.reason, "Write")
            assert.deepStrictEqual(readdirSync(dir), [])
          })
        ).pipe(Effect.provide(NodeFileSystem.layer))
      }))
  })

  describe("resume", () => {
    it.scoped("continues a dropped body from its last byte on the same host", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 300_000)
        yield* cdn.injectFault({ _tag: "Drop", afterBytes: 100_000 })
        assert.deepStrictEqual(yield* download.bytes({ imageMessage: content(p) }), p.plaintext)
        const requests = yield* downloads(cdn)
        assert.deepStrictEqual(
          requests.map((r) => [r.host, r.status, r.range, r.bytes]),
          [[primary, 200, undefined, 100_000], [primary, 206, "bytes=100000-", p.blob.length - 100_000]]
        )
        assert.strictEqual(requests.reduce((n, r) => n + r.bytes, 0), p.blob.length)
      }))

    it.scoped("resumes on the next host after the same host broke twice", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 300_000)
        yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 50_000 }, { _tag: "Drop", afterBytes: 60_000 }])
        const summary = yield* withDir((dir) =>
          download.toFile({ imageMessage: content(p) }, join(dir, "out")).pipe(
            Effect.tap(() =>
              Effect.sync(() => assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "out"))), p.plaintext))
            )
          )
        ).pipe(Effect.provide(NodeFileSystem.layer))
        const requests = yield* downloads(cdn)
        assert.deepStrictEqual(
          requests.map((r) => [r.host, r.range, r.bytes]),
          [
            [primary, undefined, 50_000],
            [primary, "bytes=50000-", 60_000],
            [fallback, "bytes=110000-", p.blob.length - 110_000]
          ]
        )
        assert.strictEqual(summary.resumes, 2)
        assert.strictEqual(summary.attempts, 3)
        assert.strictEqual(summary.restarts, 0)
        assert.strictEqual(summary.host, fallback)
      }))

    it.scoped("a server that ignores Range means a clean restart for a buffer and a file", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 300_000)
        yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 100_000 }, { _tag: "IgnoreRange" }])
        assert.deepStrictEqual(yield* download.bytes({ imageMessage: content(p) }), p.plaintext)
        yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 100_000 }, { _tag: "IgnoreRange" }])
        yield* withDir((dir) =>
          Effect.gen(function*() {
            const summary = yield* download.toFile({ imageMessage: content(p) }, join(dir, "out"))
            assert.strictEqual(summary.restarts, 1)
            assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "out"))), p.plaintext)
          })
        ).pipe(Effect.provide(NodeFileSystem.layer))
        const statuses = (yield* downloads(cdn)).map((r) => [r.status, r.range])
        assert.deepStrictEqual(statuses.slice(2), [[200, undefined], [200, "bytes=100000-"]])
      }))

    it.scoped("a file larger than the write-behind buffers is rewound cleanly when the server ignores Range", () =>
      Effect.gen(function*() {
        // Hashes inline, so that the output's own write-behind writes the file (from 3 MiB, the
        // default pool's worker would).
        const { cdn, download } = yield* world(undefined, MediaCrypto.layerInline)
        // Several MiB, so that the restart comes while earlier buffers are still being written.
        const p = yield* prepare(cdn, 3_500_000)
        yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 2_500_000 }, { _tag: "IgnoreRange" }])
        yield* withDir((dir) =>
          Effect.gen(function*() {
            const summary = yield* download.toFile({ imageMessage: content(p) }, join(dir, "out"))
            assert.strictEqual(summary.restarts, 1)
            assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "out"))), p.plaintext)
          })
        ).pipe(Effect.provide(NodeFileSystem.layer))
      }))

    it.scoped("a stream never emits a byte twice: an ignored Range after emitting fails typed", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 600_000)
        yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 400_000 }, { _tag: "IgnoreRange" }])
        const received: Array<Uint8Array> = []
        const error = yield* download.stream({ imageMessage: content(p) }).pipe(
          Stream.runForEach((chunk) => Effect.sync(() => received.push(chunk))),
          Effect.flip
        )
        assert.strictEqual(error._tag === "MediaDownloadError" && error.reason, "RestartImpossible")
        const length = received.reduce((n, c) => n + c.length, 0)
        assert.isTrue(length > 0 && length <= 400_000)
        assert.deepStrictEqual(Buffer.concat(received), Buffer.from(p.plaintext.subarray(0, length)))
      }))

    it.scoped("a stream resumes without repeating bytes, and fails at its end on an integrity failure", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 600_000)
        yield* cdn.injectFault({ _tag: "Drop", afterBytes: 333_333 })
        const chunks = yield* Stream.runCollect(download.stream({ imageMessage: content(p) }))
        assert.deepStrictEqual(Buffer.concat(Chunk.toReadonlyArray(chunks)), Buffer.from(p.plaintext))
        yield* cdn.injectFault({ _tag: "FlipByte", offset: 5 })
        const error = yield* Effect.flip(Stream.runDrain(download.stream({ imageMessage: content(p) })))
        assert.strictEqual(error._tag === "MediaIntegrityError" && error.reason, "Mac")
      }))

    it.scoped("a small media's stream gets only checked bytes: a tampered body or an ignored Range starts over", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 200_000)
        const streamed = Effect.map(
          Stream.runCollect(download.stream({ imageMessage: content(p) })),
          (chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks))
        )
        // A large media's stream would have emitted the tampered plaintext and failed at its end.
        yield* cdn.injectFault({ _tag: "FlipByte", offset: 5 })
        assert.deepStrictEqual(yield* streamed, Buffer.from(p.plaintext))
        assert.deepStrictEqual((yield* downloads(cdn)).map((r) => r.host), [primary, fallback])
        // A large media's stream would end `RestartImpossible` here (above).
        yield* cdn.clearRequests
        yield* cdn.injectFaults([{ _tag: "Drop", afterBytes: 100_000 }, { _tag: "IgnoreRange" }])
        assert.deepStrictEqual(yield* streamed, Buffer.from(p.plaintext))
        assert.strictEqual((yield* downloads(cdn)).length, 2)
        // An empty media's stream emits no chunk at all.
        const empty = yield* prepare(cdn, 0)
        assert.strictEqual(Chunk.size(yield* Stream.runCollect(download.stream({ imageMessage: content(empty) }))), 0)
      }))

    it.scoped("a stream read slowly gets every byte once, in order, from a body that arrives in batches", () =>
      Effect.gen(function*() {
        const { cdn, client } = yield* FakeCdn.make()
        // Three body pieces per chunk, as from a socket that ran ahead of its reader.
        const batching = HttpClient.transformResponse(
          client,
          Effect.map((response) => Object.create(response, { stream: { value: Stream.rechunk(response.stream, 3) } }))
        )
        const context = yield* Layer.build(
          MediaDownload.layer.pipe(
            Layer.provide(Layer.mergeAll(
              MediaConn.layer(Effect.flatMap(cdn.mediaConn, MediaConn.fromValue)),
              Layer.succeed(HttpClient.HttpClient, batching),
              MediaCrypto.layer
            ))
          )
        )
        const download = Context.get(context, MediaDownload.MediaDownload)
        const p = yield* prepare(cdn, 1_000_000)
        const pull = yield* Stream.toPull(download.stream({ imageMessage: content(p) }))
        const received: Array<Uint8Array> = []
        // The consumer lets everything else run after each chunk, as a slow reader would.
        yield* pullAll(pull, received, settle)
        assert.deepStrictEqual(Buffer.concat(received), Buffer.from(p.plaintext))
      }))
  })

  describe("stalls and deadlines", () => {
    it.scoped("a reader or a writable that takes longer than the stall timeout is not a stall", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 300_000)
        // A stream's reader that waits two minutes after its first chunk.
        const pull = yield* Stream.toPull(download.stream({ imageMessage: content(p) }))
        const received: Array<Uint8Array> = [...(yield* pull)]
        yield* settle
        yield* TestClock.adjust("2 minutes")
        yield* settle
        yield* pullAll(pull, received)
        assert.deepStrictEqual(Buffer.concat(received), Buffer.from(p.plaintext))
        // A writable that holds its first write for two minutes.
        const held: Array<() => void> = []
        let holding = true
        const parts: Array<Buffer> = []
        const slow = new Writable({
          highWaterMark: 1,
          write: (chunk: Buffer, _encoding, callback) => {
            parts.push(chunk)
            if (holding) held.push(() => callback())
            else callback()
          }
        })
        const fiber = yield* Effect.fork(download.toWritable({ imageMessage: content(p) }, slow))
        yield* settle
        assert.strictEqual(held.length, 1)
        yield* TestClock.adjust("2 minutes")
        yield* settle
        holding = false
        for (const release of held) release()
        yield* Fiber.join(fiber)
        assert.deepStrictEqual(Buffer.concat(parts), Buffer.from(p.plaintext))
        assert.strictEqual((yield* downloads(cdn)).length, 2)
      }))

    it.scoped("a body with no byte for the stall timeout moves on to the next host, resuming", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 300_000)
        // `bytes` reads the body in the download's fiber; a stream's reader waits on it in its own.
        const outputs = [
          download.bytes({ imageMessage: content(p) }),
          Effect.map(
            Stream.runCollect(download.stream({ imageMessage: content(p) })),
            (chunks) => new Uint8Array(Buffer.concat(Chunk.toReadonlyArray(chunks)))
          )
        ]
        for (const output of outputs) {
          yield* cdn.clearRequests
          yield* cdn.injectFault({ _tag: "Stall", afterBytes: 70_000 })
          assert.deepStrictEqual(yield* withClock(output), p.plaintext)
          const requests = yield* downloads(cdn)
          assert.deepStrictEqual(
            requests.map((r) => [r.host, r.range]),
            [[primary, undefined], [fallback, "bytes=70000-"]]
          )
        }
      }))

    it.scoped("the stall timeout is an option, and the deadline bounds the whole download", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 1000)
        yield* cdn.injectFault({ _tag: "Stall" })
        yield* cdn.injectFault({ _tag: "Stall" }, { host: fallback })
        const stalled = yield* withClock(
          Effect.flip(download.bytes({ imageMessage: content(p) }, { stallTimeout: "5 seconds" })),
          "5 seconds"
        )
        assert.strictEqual(stalled._tag === "MediaDownloadError" && stalled.reason, "AllHostsFailed")
        if (stalled._tag === "MediaDownloadError") {
          assert.isTrue(stalled.attempts.every((a) => a.reason.startsWith("stalled")))
        }
        yield* cdn.injectFault({ _tag: "Stall" })
        const late = yield* withClock(
          Effect.flip(
            download.bytes({ imageMessage: content(p) }, { stallTimeout: "1 minute", deadline: "20 seconds" })
          ),
          "10 seconds"
        )
        assert.strictEqual(late._tag === "MediaDownloadError" && late.reason, "DeadlineExceeded")
        // A stream's reader waiting on a stalled body is released by the deadline too.
        yield* cdn.injectFault({ _tag: "Stall", afterBytes: 500 })
        const lateStream = yield* withClock(
          Effect.flip(Stream.runDrain(
            download.stream({ imageMessage: content(p) }, { stallTimeout: "1 minute", deadline: "20 seconds" })
          )),
          "10 seconds"
        )
        assert.strictEqual(lateStream._tag === "MediaDownloadError" && lateStream.reason, "DeadlineExceeded")
      }))
  })

  describe("turns", () => {
    /** `n` downloads of `p` forked, each stalled at its first host until the stall timeout. */
    const stalledDownloads = (
      cdn: CdnControl.CdnControl,
      download: MediaDownload.MediaDownload["Type"],
      p: Prepared,
      n: number,
      stallTimeout: Duration.DurationInput = "10 seconds"
    ) =>
      Effect.zipRight(
        cdn.injectFaults(Array.from({ length: n }, () => ({ _tag: "Stall" as const }))),
        Effect.forEach(
          Array.from({ length: n }, () => download.bytes({ imageMessage: content(p) }, { stallTimeout })),
          (one) => Effect.fork(one)
        )
      )

    it.scoped("runs at most `concurrency` downloads at once; the next wait for a turn before any request", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world(undefined, MediaCrypto.layer, { concurrency: 2 })
        const p = yield* prepare(cdn, 1000)
        const fibers = yield* stalledDownloads(cdn, download, p, 3)
        yield* settle
        assert.deepStrictEqual((yield* downloads(cdn)).map((r) => r.host), [primary, primary])
        // The first two give their hosts up and finish at the fallback; the third then starts, and
        // its host answers.
        yield* cdn.clearFaults()
        yield* TestClock.adjust("10 seconds")
        for (const fiber of fibers) assert.deepStrictEqual(yield* Fiber.join(fiber), p.plaintext)
        const hosts = (yield* downloads(cdn)).map((r) => r.host)
        assert.deepStrictEqual(hosts.slice(0, 2), [primary, primary])
        assert.isAbove(hosts.lastIndexOf(primary), hosts.indexOf(fallback), "the third asked only after a turn ended")
      }))

    it.scoped("small media have turns of their own: a small download does not wait behind large ones", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world(undefined, MediaCrypto.layer, { concurrency: 1 })
        const large = yield* prepare(cdn, Turns.SMALL_TRANSFER)
        const small = yield* prepare(cdn, 1000, "sticker")
        const [holder] = yield* stalledDownloads(cdn, download, large, 1, "1 hour")
        yield* settle
        const waiting = yield* Effect.fork(download.bytes({ imageMessage: content(large) }))
        yield* settle
        assert.deepStrictEqual(yield* download.bytes({ stickerMessage: content(small) }), small.plaintext)
        assert.strictEqual((yield* downloads(cdn)).length, 2, "the second large download still waits")
        yield* Fiber.interrupt(holder!)
        assert.deepStrictEqual(yield* Fiber.join(waiting), large.plaintext)
        assert.strictEqual((yield* downloads(cdn)).length, 3)
      }))

    it.scoped("a small media's stream gives its turn back once downloaded, before its reader is done", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world(undefined, MediaCrypto.layer, { concurrency: 1 })
        const p = yield* prepare(cdn, 1000)
        const pull = yield* Stream.toPull(download.stream({ imageMessage: content(p) }))
        assert.deepStrictEqual(Buffer.concat(Chunk.toReadonlyArray(yield* pull)), Buffer.from(p.plaintext))
        // The stream is still open (its end not pulled yet), and the next download has its turn.
        assert.deepStrictEqual(yield* download.bytes({ imageMessage: content(p) }), p.plaintext)
      }))

    it.scoped("16 at once by default; `unbounded` lifts the bound", () =>
      Effect.gen(function*() {
        for (const [options, expected] of [[{}, 16], [{ concurrency: "unbounded" as const }, 20]] as const) {
          const { cdn, download } = yield* world(undefined, MediaCrypto.layer, options)
          const p = yield* prepare(cdn, 1000)
          const fibers = yield* stalledDownloads(cdn, download, p, 20)
          yield* settle
          assert.strictEqual((yield* downloads(cdn)).length, expected)
          yield* Effect.forEach(fibers, Fiber.interrupt)
        }
      }))

    it.scoped("what is left of the deadline after the wait bounds the download", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world(undefined, MediaCrypto.layer, { concurrency: 1 })
        const p = yield* prepare(cdn, 1000)
        const [holder] = yield* stalledDownloads(cdn, download, p, 1)
        yield* settle
        // Its own host stalls too, for longer than its deadline.
        yield* cdn.injectFault({ _tag: "Stall" })
        const late = yield* Effect.fork(
          download.bytes({ imageMessage: content(p) }, { deadline: "5 seconds", stallTimeout: "1 minute" })
        )
        yield* settle
        yield* TestClock.adjust("3 seconds")
        yield* Fiber.interrupt(holder!)
        yield* settle
        assert.strictEqual((yield* downloads(cdn)).length, 2, "the late download has its turn")
        yield* TestClock.adjust("2 seconds")
        yield* settle
        const ended = yield* Fiber.poll(late)
        assert.isTrue(Option.isSome(ended), "5 seconds after it was asked for")
        const error = yield* Effect.flip(Fiber.join(late))
        assert.strictEqual(error._tag === "MediaDownloadError" && error.reason, "DeadlineExceeded")
      }))

    it.scoped("a download waiting for its turn has no file open yet", () =>
      withDir((dir) =>
        Effect.gen(function*() {
          const { cdn, download } = yield* world(undefined, MediaCrypto.layer, { concurrency: 1 })
          const p = yield* prepare(cdn, 1000)
          const [holder] = yield* stalledDownloads(cdn, download, p, 1)
          const target = join(dir, "photo.jpg")
          const waiting = yield* Effect.fork(download.toFile({ imageMessage: content(p) }, target))
          // Real time for the file system, which the test clock does not move.
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 100)))
          yield* settle
          assert.deepStrictEqual(readdirSync(dir), [])
          yield* Fiber.interrupt(holder!)
          yield* Fiber.join(waiting)
          assert.deepStrictEqual(new Uint8Array(readFileSync(target)), p.plaintext)
        }).pipe(Effect.provide(NodeFileSystem.layer))
      ))

    it.scoped("a deadline counts the wait for a turn; an interrupted or dropped download gives its turn back", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world(undefined, MediaCrypto.layer, { concurrency: 1 })
        const p = yield* prepare(cdn, 300_000)
        const [holder] = yield* stalledDownloads(cdn, download, p, 1, "1 hour")
        yield* settle
        const late = yield* withClock(
          Effect.flip(download.bytes({ imageMessage: content(p) }, { deadline: "5 seconds" })),
          "1 second"
        )
        assert.strictEqual(late._tag === "MediaDownloadError" && late.reason, "DeadlineExceeded")
        assert.deepStrictEqual(late._tag === "MediaDownloadError" && late.attempts, [])
        // A writable is destroyed as on any other failure.
        const writable = new PassThrough().on("error", () => undefined)
        const lateWritable = yield* withClock(
          Effect.flip(download.toWritable({ imageMessage: content(p) }, writable, { deadline: "5 seconds" })),
          "1 second"
        )
        assert.strictEqual(lateWritable._tag === "MediaDownloadError" && lateWritable.reason, "DeadlineExceeded")
        assert.isTrue(writable.destroyed)
        assert.strictEqual((yield* downloads(cdn)).length, 1, "the late downloads never asked")
        yield* Fiber.interrupt(holder!)
        // A stream whose reader stops after its first chunk ends, and so does its turn.
        const first = yield* Stream.runHead(download.stream({ imageMessage: content(p) }))
        assert.isTrue(Option.isSome(first))
        assert.deepStrictEqual(yield* download.bytes({ imageMessage: content(p) }), p.plaintext)
      }))
  })

  describe("outputs", () => {
    it.scoped("bytes believes a length only when the server's blob agrees: a claimed 1 PiB fails typed", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 300_000)
        // Kept in one array of the length the message and the server agree on.
        assert.deepStrictEqual(yield* download.bytes({ imageMessage: content(p) }), p.plaintext)
        const error = yield* Effect.flip(download.bytes({ imageMessage: { ...content(p), fileLength: 2 ** 50 } }))
        assert.strictEqual(error._tag, "MediaIntegrityError")
      }))

    it.scoped("a stream its reader stops early ends at once and cancels the body", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 600_000)
        const first = yield* Stream.runCollect(Stream.take(download.stream({ imageMessage: content(p) }), 1))
        assert.strictEqual(Chunk.size(first), 1)
        assert.deepStrictEqual(Chunk.unsafeGet(first, 0), p.plaintext.subarray(0, Chunk.unsafeGet(first, 0).length))
        // The download goes on normally afterwards: nothing of the stopped one is left waiting.
        const bytes = yield* download.bytes({ imageMessage: content(p) })
        assert.deepStrictEqual(bytes, p.plaintext)
      }))

    it.scoped("no output file after a failure or an interruption", () =>
      withDir((dir) =>
        Effect.gen(function*() {
          const { cdn, download } = yield* world()
          const p = yield* prepare(cdn, 300_000)
          const target = join(dir, "out")
          yield* cdn.injectFault({ _tag: "FlipByte", offset: 10 })
          yield* cdn.injectFault({ _tag: "FlipByte", offset: 10 }, { host: fallback })
          const error = yield* Effect.flip(download.toFile({ imageMessage: content(p) }, target))
          assert.strictEqual(error._tag, "MediaIntegrityError")
          assert.deepStrictEqual(readdirSync(dir), [])
          yield* cdn.injectFault({ _tag: "Stall", afterBytes: 100_000 })
          const started = yield* Deferred.make<void>()
          const fiber = yield* Effect.fork(
            download.toFile({ imageMessage: content(p) }, target, {
              onProgress: () => Deferred.succeed(started, void 0)
            })
          )
          yield* Deferred.await(started)
          assert.strictEqual(readdirSync(dir).length, 1) // the temp file
          yield* Fiber.interrupt(fiber)
          assert.deepStrictEqual(readdirSync(dir), [])
          assert.isFalse(existsSync(target))
        })
      ).pipe(Effect.provide(NodeFileSystem.layer)))

    it.scoped("toSink, toWritable and progress", () =>
      Effect.gen(function*() {
        const { cdn, download } = yield* world()
        const p = yield* prepare(cdn, 500_000)
        const length = yield* download.toSink(
          { imageMessage: content(p) },
          Sink.foldLeft(0, (n, chunk: Uint8Array) => n + chunk.length)
        )
        assert.strictEqual(length, p.plaintext.length)
        const writable = new PassThrough()
        const parts: Array<Buffer> = []
        writable.on("data", (chunk: Buffer) => parts.push(chunk))
        const summary = yield* download.toWritable({ imageMessage: content(p) }, writable)
        assert.deepStrictEqual(Buffer.concat(parts), Buffer.from(p.plaintext))
        assert.isTrue(writable.writableEnded)
        assert.strictEqual(summary.fileLength, p.plaintext.length)
        const progress = yield* SubscriptionRef.make<Option.Option<MediaDownload.Progress>>(Option.none())
        const seen: Array<MediaDownload.Progress> = []
        yield* download.bytes({ imageMessage: content(p) }, {
          onProgress: (value) =>
            Effect.zipRight(Effect.sync(() => seen.push(value)), SubscriptionRef.set(progress, Option.some(value)))
        })
        const last = Option.getOrThrow(yield* SubscriptionRef.get(progress))
        assert.deepStrictEqual(last, { bytes: p.blob.length, total: p.blob.length, host: primary })
        // Throttled by the (test) clock, which does not move: the first report and the last.
        assert.strictEqual(seen.length, 2)
        const failing = new PassThrough()
        failing.resume()
        const destroyedWith = new Promise<unknown>((resolve) => failing.on("error", resolve))
        yield* cdn.injectFault({ _tag: "FlipByte", offset: 10 })
        yield* cdn.injectFault({ _tag: "FlipByte", offset: 10 }, { host: fallback })
        yield* Effect.flip(download.toWritable({ imageMessage: content(p) }, failing))
        assert.isTrue(failing.destroyed)
        const reported = yield* Effect.promise(() => destroyedWith)
        assert.strictEqual((reported as { _tag?: string })._tag, "MediaIntegrityError")
      }))
  })
})
