// The README's recipe for a bot test of an expired photo, run exactly as it is written there
// (test/docs.test.ts checks that this file holds the README's block verbatim).
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { MediaCrypto, MediaDownload } from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import * as FakePhone from "effect-wa-media/testing/FakePhone"

const ExpiredWorld = MediaDownload.layer.pipe(
  Layer.provideMerge(FakePhone.layer()), // the phone, and the MediaRetry of a bot that talks to it
  Layer.provideMerge(FakeCdn.layerWithMediaConn()),
  Layer.provideMerge(MediaCrypto.layerTest())
)

it.effect("an old photo comes back by itself, and the bot keeps its new path", () =>
  Effect.gen(function*() {
    const phone = yield* FakePhone.FakePhone
    const cdn = yield* FakeCdn.FakeCdn
    const downloads = yield* MediaDownload.MediaDownload

    const photo = new Uint8Array(50_000).fill(9)
    const received = yield* phone.sendMedia(photo, { type: "image" })
    yield* cdn.expireLinks // weeks later: every link so far answers 410

    let saved: MediaDownload.Source | undefined
    const bytes = yield* downloads.bytes(received, { onReupload: ({ source }) => Effect.sync(() => saved = source) })

    assert.deepStrictEqual(bytes, photo)
    assert.strictEqual((yield* phone.requests).length, 1)
    assert.deepStrictEqual(yield* downloads.bytes(saved!), photo) // the new path needs no phone
  }).pipe(Effect.provide(ExpiredWorld)))

it.effect("a phone that stays silent: the download fails after 30 seconds", () =>
  Effect.gen(function*() {
    const phone = yield* FakePhone.FakePhone
    const cdn = yield* FakeCdn.FakeCdn
    const downloads = yield* MediaDownload.MediaDownload

    const received = yield* phone.sendMedia(new Uint8Array(1_000), { type: "image" })
    yield* cdn.expireLinks
    yield* phone.answerWith("Silence")

    const fiber = yield* Effect.fork(Effect.flip(downloads.bytes(received)))
    yield* TestClock.adjust("30 seconds")
    const error = yield* Fiber.join(fiber)
    assert.strictEqual(error._tag === "MediaDownloadError" && error.reason, "Expired")
    assert.include(error.message, "(Timeout)")
  }).pipe(Effect.provide(ExpiredWorld)))
