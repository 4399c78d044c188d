// Expired media end to end over the fake CDN: a download that ends NotFound/Expired asks the
// simulated sender's phone for a re-upload once (when a MediaRetry service is provided) and
// downloads from the fresh path with every check unchanged.
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Ref, Stream, TestClock } from "effect"
import { MediaCrypto, MediaDownload, MediaMessage } from "effect-wa-media"
import { MediaDownloadError, MediaIntegrityError } from "effect-wa-media/MediaError"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import * as FakePhone from "effect-wa-media/testing/FakePhone"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pseudoRandomBytes } from "./bytes.js"

const [primary, fallback] = FakeCdn.defaultHosts as [string, string]

const withPhone = (options: FakePhone.Options = {}) =>
  MediaDownload.layer.pipe(
    Layer.provideMerge(FakePhone.layer(options)),
    Layer.provideMerge(FakeCdn.layerWithMediaConn()),
    Layer.provideMerge(MediaCrypto.layerTest()),
    Layer.provideMerge(NodeFileSystem.layer)
  )

// The same world without a MediaRetry service: the phone is there, but nobody asks it.
const withoutRetry = Layer.mergeAll(MediaDownload.layer, FakePhone.layer()).pipe(
  Layer.provideMerge(FakeCdn.layerWithMediaConn()),
  Layer.provideMerge(MediaCrypto.layerTest())
)

const photo = pseudoRandomBytes(15, 200_000)

const downloadsOf = Effect.flatMap(
  FakeCdn.FakeCdn,
  (cdn) => Effect.map(cdn.requests, (requests) => requests.filter((r) => r.kind === "download"))
)

interface Content {
  readonly directPath?: string
  readonly url?: string
}
// The media content of a message the phone sent, or of its updated copy.
const contentOf = (message: unknown, kind: string): Content => {
  const record = message as { readonly message?: Record<string, Content> } & Record<string, Content>
  return (record.message ?? record)[kind]!
}

// The phone sends media, and its links expire.
const expired = (type: FakePhone.SendType) =>
  Effect.gen(function*() {
    const phone = yield* FakePhone.FakePhone
    const cdn = yield* FakeCdn.FakeCdn
    const download = yield* MediaDownload.MediaDownload
    const sent = yield* phone.sendMedia(photo, { type })
    const old = (yield* MediaMessage.downloadable(sent)).directPath!
    yield* cdn.expireLinks
    return { phone, cdn, download, sent, old }
  })

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Fail")
  return (exit as Exit.Failure<A, E> & { cause: { error: E } }).cause.error
}

describe("MediaDownload with MediaRetry (fake CDN)", () => {
  it.effect("an expired photo comes back by itself: one request to the phone, the new path reported", () =>
    Effect.gen(function*() {
      const { phone, download, sent, old } = yield* expired("image")

      const reports = yield* Ref.make<ReadonlyArray<MediaDownload.Reupload>>([])
      const received = yield* download.bytes(sent, {
        onReupload: (reupload) => Ref.update(reports, (all) => [...all, reupload])
      })
      assert.deepStrictEqual(received, photo)

      const [report] = yield* Ref.get(reports)
      assert.isDefined(report)
      assert.notStrictEqual(report!.directPath, old)
      // The updated message: same key and media key, the fresh path, no stale url.
      const updated = report!.source as typeof sent
      assert.deepStrictEqual(updated.key, sent.key)
      assert.strictEqual(contentOf(updated, "imageMessage").directPath, report!.directPath)
      assert.isUndefined(contentOf(updated, "imageMessage").url)
      assert.strictEqual(contentOf(sent, "imageMessage").directPath, old)
      // It downloads again without asking the phone.
      assert.deepStrictEqual(yield* download.bytes(updated), photo)
      assert.strictEqual((yield* phone.requests).length, 1)

      const statuses = (yield* downloadsOf).map((r) => `${r.host} ${r.status}`)
      assert.deepStrictEqual(statuses, [
        // The message URL, again after the single refresh, the fresh path; then the updated message.
        `${primary} 410`,
        `${primary} 410`,
        `${primary} 200`,
        `${primary} 200`
      ])
    }).pipe(Effect.provide(withPhone())))

  it.effect("toFile reports the re-upload in its Summary; media gone from the CDN (404) comes back too", () =>
    Effect.gen(function*() {
      const phone = yield* FakePhone.FakePhone
      const cdn = yield* FakeCdn.FakeCdn
      const download = yield* MediaDownload.MediaDownload
      const sent = yield* phone.sendMedia(photo, { type: "document" })
      assert.isTrue(yield* cdn.remove((yield* MediaMessage.downloadable(sent)).directPath!))
      const dir = mkdtempSync(join(tmpdir(), "wa-media-retry-"))
      const path = join(dir, "doc.bin")
      const summary = yield* download.toFile(sent, path)
      assert.deepStrictEqual(new Uint8Array(readFileSync(path)), photo)
      rmSync(dir, { recursive: true, force: true })
      assert.isDefined(summary.reupload)
      assert.strictEqual(summary.host, primary)
      assert.strictEqual(summary.attempts, 3)
      assert.strictEqual(
        contentOf(summary.reupload!.source, "documentMessage").directPath,
        summary.reupload!.directPath
      )
    }).pipe(Effect.provide(withPhone())))

  it.effect("an inner message with options.messageKey, or a Downloadable, is asked for too", () =>
    Effect.gen(function*() {
      const { phone, cdn, download, sent } = yield* expired("video")
      const reports = yield* Ref.make<ReadonlyArray<MediaDownload.Reupload>>([])
      const onReupload = (reupload: MediaDownload.Reupload) => Ref.update(reports, (all) => [...all, reupload])
      const received = yield* download.bytes(sent.message, { messageKey: sent.key, onReupload })
      assert.deepStrictEqual(received, photo)
      yield* cdn.expireLinks
      const media = yield* MediaMessage.downloadable(sent)
      assert.deepStrictEqual(yield* download.bytes(media, { messageKey: sent.key, onReupload }), photo)
      const [inner, downloadable] = yield* Ref.get(reports)
      assert.strictEqual(contentOf(inner!.source, "videoMessage").directPath, inner!.directPath)
      assert.strictEqual((downloadable!.source as MediaMessage.Downloadable).directPath, downloadable!.directPath)
      assert.isUndefined((downloadable!.source as MediaMessage.Downloadable).url)
      assert.strictEqual((yield* phone.requests).length, 2)
      // Without a key there is nobody to ask: the download ends Expired as before.
      yield* cdn.expireLinks
      const error = failureOf(yield* Effect.exit(download.bytes(sent.message)))
      assert.strictEqual(error._tag === "MediaDownloadError" && error.reason, "Expired")
      assert.strictEqual((yield* phone.requests).length, 2)
    }).pipe(Effect.provide(withPhone())))

  it.effect("without a MediaRetry service nothing changes: Expired, and the phone is never asked", () =>
    Effect.gen(function*() {
      const { phone, download, sent } = yield* expired("image")
      const error = failureOf(yield* Effect.exit(download.bytes(sent)))
      assert.instanceOf(error, MediaDownloadError)
      assert.strictEqual((error as MediaDownloadError).reason, "Expired")
      assert.strictEqual((error as MediaDownloadError).attempts.length, 2)
      assert.strictEqual((yield* phone.requests).length, 0)
    }).pipe(Effect.provide(withoutRetry)))

  it.effect("every answer of the phone that is no re-upload ends the download, listed among its attempts", () =>
    Effect.gen(function*() {
      const { phone, download, sent } = yield* expired("sticker")
      for (const answer of ["NotOnPhone", "DecryptionError", "GeneralError"] as const) {
        yield* phone.answerWith(answer)
        const error = failureOf(yield* Effect.exit(download.bytes(sent))) as MediaDownloadError
        assert.strictEqual(error.reason, "Expired")
        assert.strictEqual(error.attempts.length, 3)
        const last = error.attempts[2]!
        assert.strictEqual(last.host, "sender's phone")
        assert.include(last.reason, `(${answer})`)
        assert.include(error.message, `sender's phone media re-upload failed (${answer})`)
      }
      assert.strictEqual((yield* phone.requests).length, 3)
    }).pipe(Effect.provide(withPhone())))

  it.effect("a silent phone: the download fails after the re-upload timeout of Effect's Clock", () =>
    Effect.gen(function*() {
      const { download, sent } = yield* expired("audio")
      const fiber = yield* Effect.fork(download.bytes(sent))
      yield* TestClock.adjust("30 seconds")
      const error = failureOf(yield* Fiber.await(fiber)) as MediaDownloadError
      assert.strictEqual(error.reason, "Expired")
      assert.include(error.attempts[2]!.reason, "(Timeout)")
    }).pipe(Effect.provide(withPhone({ answer: "Silence" }))))

  it.effect("at most one re-upload per download; a fresh path that fails too lists every attempt", () =>
    Effect.gen(function*() {
      const { phone, cdn, download, sent } = yield* expired("image")
      // Once the phone answered, the fresh path is gone as well (before and after the refresh).
      const gone = cdn.injectFault({ _tag: "Status", status: 404, times: 2 }, { host: primary })
      const error = failureOf(yield* Effect.exit(download.bytes(sent, { onReupload: () => gone })))
      assert.instanceOf(error, MediaDownloadError)
      const { attempts, reason } = error as MediaDownloadError
      assert.strictEqual(reason, "NotFound")
      assert.deepStrictEqual(attempts.map((a) => `${a.host} ${a.status ?? a.reason}`), [
        `${primary} 410`,
        `${primary} 410`,
        "sender's phone re-uploaded",
        `${primary} 404`,
        `${primary} 404`
      ])
      assert.strictEqual((yield* phone.requests).length, 1)
    }).pipe(Effect.provide(withPhone())))

  it.effect("the fresh path's blob goes through every check: a flipped byte at every host is caught", () =>
    Effect.gen(function*() {
      const { cdn, download, sent } = yield* expired("image")
      const flip = Effect.forEach(
        [primary, fallback],
        (host) => cdn.injectFault({ _tag: "FlipByte", offset: 1000, on: "download" }, { host }),
        { discard: true }
      )
      const error = failureOf(yield* Effect.exit(download.bytes(sent, { onReupload: () => flip })))
      assert.instanceOf(error, MediaIntegrityError)
    }).pipe(Effect.provide(withPhone())))

  it.effect("a stream download of expired media emits the verified photo once", () =>
    Effect.gen(function*() {
      const { phone, download, sent } = yield* expired("image")
      const chunks = yield* Stream.runCollect(download.stream(sent))
      const joined = Buffer.concat([...chunks])
      assert.deepStrictEqual(new Uint8Array(joined), photo)
      assert.strictEqual((yield* phone.requests).length, 1)
    }).pipe(Effect.provide(withPhone())))
})
