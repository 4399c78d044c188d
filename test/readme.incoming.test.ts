// The README's "media a bot receives from someone else" example, run exactly as it is written there
// (test/docs.test.ts checks that this file holds the README's block verbatim).
import { assert, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { CdnControl, MediaCrypto, MediaDownload } from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"

// The bot's code under test: download what came in, answer with its size.
const onMessage = (message: MediaDownload.Source) =>
  Effect.flatMap(MediaDownload.MediaDownload, (downloads) => downloads.bytes(message)).pipe(
    Effect.map((bytes) => `got ${bytes.length} bytes`)
  )

it.effect("the bot answers a document with its size", () =>
  Effect.gen(function*() {
    const cdn = yield* FakeCdn.FakeCdn
    const received = yield* CdnControl.incoming(cdn, new Uint8Array(12_345), {
      kind: "document",
      fileName: "report.pdf",
      from: "4915112345678@s.whatsapp.net"
    })
    assert.strictEqual(received.message.documentMessage.fileName, "report.pdf")

    // The media connection fetch fails: the message's own https url still serves the download.
    yield* cdn.injectFault({ _tag: "Status", status: 503, on: "media_conn" })
    assert.strictEqual(yield* onMessage(received), "got 12345 bytes")
    const kinds = (yield* cdn.requests).map((r) => `${r.kind} ${r.status}`)
    assert.deepStrictEqual(kinds, ["media_conn 503", "download 200"])
  }).pipe(Effect.provide(MediaDownload.layer.pipe(
    Layer.provideMerge(FakeCdn.layerWithMediaConn()),
    Layer.provideMerge(MediaCrypto.layerTest())
  ))))
