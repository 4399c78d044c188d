import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FastCheck as fc, Option, Redacted } from "effect"
import { MediaMessage } from "effect-wa-media"
import type { MediaType } from "effect-wa-media"
import { hex, toHex, vectors } from "./vectors.js"

const mediaKey = hex(vectors.media_key)
const otherKey = new Uint8Array(32).fill(7)
// Chosen so that standard and url-safe base64 differ (they contain `+`/`/` resp. `-`/`_`).
const fileSha256 = new Uint8Array(32).fill(0xfb)
const fileEncSha256 = new Uint8Array(32).map((_, i) => (i * 37 + 0xfe) & 0xff)
const thumbSha256 = new Uint8Array(32).fill(0x11)
const thumbEncSha256 = new Uint8Array(32).fill(0x22)
const directPath = "/v/t62.7118-24/11111_22222_33333_n.enc?ccb=11-4&oh=01_Q5&oe=68000000&_nc_sid=5e03e0"
const url = "https://mmg.whatsapp.net/v/t62.7118-24/11111_22222_33333_n.enc?ccb=11-4&mms3=true"

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")

const media = (extra: Record<string, unknown> = {}) => ({
  url,
  directPath,
  mediaKey,
  fileSha256,
  fileEncSha256,
  fileLength: 12345,
  mediaKeyTimestamp: 1700000000,
  mimetype: "image/jpeg",
  ...extra
})

// Compares the content: chai's deep equality does not tell Option values apart.
const assertSome = <A>(option: Option.Option<A>, expected: A) => {
  assert.isTrue(Option.isSome(option), "expected Some")
  if (Option.isSome(option)) assert.deepStrictEqual(option.value, expected)
}

const keyOf = (d: MediaMessage.Downloadable) => d.mediaKey === undefined ? undefined : toHex(Redacted.value(d.mediaKey))

const assertMedia = (d: MediaMessage.Downloadable, mediaType: MediaType.MediaType, fileLength = 12345) => {
  assert.strictEqual(d.mediaType, mediaType)
  assert.strictEqual(d.directPath, directPath)
  assert.strictEqual(d.url, url)
  assert.strictEqual(keyOf(d), vectors.media_key)
  assert.deepStrictEqual(d.fileSha256, fileSha256)
  assert.deepStrictEqual(d.fileEncSha256, fileEncSha256)
  assert.strictEqual(d.fileLength, fileLength)
}

// A protobuf.js `Long` with its methods, as a live WAProto decode produces it.
class Long {
  constructor(readonly low: number, readonly high: number, readonly unsigned: boolean) {}
  toNumber() {
    return this.high * 0x100000000 + (this.low >>> 0)
  }
  toString() {
    return String(this.toNumber())
  }
}

const uploaded = (mediaType: MediaType.MediaType, extra: Partial<MediaMessage.UploadedMedia> = {}) => ({
  mediaType,
  url,
  directPath,
  handle: "handle-1",
  objectId: "object-1",
  mediaKey: Redacted.make(new Uint8Array(mediaKey)),
  fileSha256,
  fileEncSha256,
  fileLength: 12345,
  mediaKeyTimestamp: 1700000000,
  ...extra
})

describe("MediaMessage", () => {
  describe("downloadable", () => {
    const kinds: ReadonlyArray<readonly [string, MediaType.MediaType]> = [
      ["imageMessage", "image"],
      ["videoMessage", "video"],
      ["ptvMessage", "video"],
      ["audioMessage", "audio"],
      ["documentMessage", "document"],
      ["stickerMessage", "sticker"],
      ["stickerPackMessage", "sticker-pack"],
      ["historySyncNotification", "history"]
    ]
    for (const [kind, type] of kinds) {
      it.effect(`reads a ${kind} as ${type}`, () =>
        Effect.gen(function*() {
          const message = { [kind]: media(), messageContextInfo: { deviceListMetadataVersion: 2 } }
          assertMedia(yield* MediaMessage.downloadable(message), type)
          assertSome(MediaMessage.mediaKind(message), kind)
          assert.strictEqual(MediaMessage.kindMediaType(kind as MediaMessage.MediaKind), type)
        }))
    }

    it.effect("reads a history sync notification inside a protocolMessage", () =>
      Effect.gen(function*() {
        const message = { protocolMessage: { type: 5, historySyncNotification: { ...media(), syncType: 1 } } }
        assertMedia(yield* MediaMessage.downloadable(message), "history")
        assertSome(MediaMessage.mediaKind(message), "historySyncNotification")
      }))

    it.effect("reads an app-state ExternalBlobReference, its length in fileSizeBytes", () =>
      Effect.gen(function*() {
        const blob = {
          mediaKey: b64(mediaKey),
          directPath,
          handle: "h",
          fileSizeBytes: { low: 300, high: 0, unsigned: true },
          fileSha256: b64(fileSha256),
          fileEncSha256: b64(fileEncSha256)
        }
        const d = yield* MediaMessage.downloadable(blob)
        assert.strictEqual(d.mediaType, "app-state")
        assert.strictEqual(d.fileLength, 300)
        assert.strictEqual(d.directPath, directPath)
        assert.strictEqual(keyOf(d), vectors.media_key)
        assert.deepStrictEqual(yield* MediaMessage.downloadable(blob, { type: "app-state" }), d)
      }))

    const wrappers: ReadonlyArray<readonly [string, (inner: object) => object]> = [
      ["documentWithCaptionMessage", (m) => ({ documentWithCaptionMessage: { message: m } })],
      ["viewOnceMessage", (m) => ({ viewOnceMessage: { message: m } })],
      ["viewOnceMessageV2", (m) => ({ viewOnceMessageV2: { message: m } })],
      ["viewOnceMessageV2Extension", (m) => ({ viewOnceMessageV2Extension: { message: m } })],
      ["ephemeralMessage", (m) => ({ ephemeralMessage: { message: m } })],
      ["editedMessage", (m) => ({ editedMessage: { message: m } })],
      ["associatedChildMessage", (m) => ({ associatedChildMessage: { message: m } })],
      ["protocolMessage.editedMessage", (m) => ({ protocolMessage: { type: 14, editedMessage: m } })],
      ["WebMessageInfo", (m) => ({ key: { remoteJid: "1@s.whatsapp.net", id: "ABC" }, message: m })],
      [
        "ephemeral view-once in a WebMessageInfo",
        (m) => ({ message: { ephemeralMessage: { message: { viewOnceMessageV2: { message: m } } } } })
      ]
    ]
    for (const [name, wrap] of wrappers) {
      it.effect(`looks through ${name}`, () =>
        Effect.gen(function*() {
          assertMedia(yield* MediaMessage.downloadable(wrap({ videoMessage: media() })), "video")
          assertMedia(yield* MediaMessage.downloadable(wrap({ documentMessage: media() })), "document")
          assertSome(MediaMessage.mediaKind(wrap({ audioMessage: media() })), "audioMessage")
        }))
    }

    it.effect("reads an inner media message with an explicit type or alias", () =>
      Effect.gen(function*() {
        assertMedia(yield* MediaMessage.downloadable(media(), { type: "image" }), "image")
        assertMedia(yield* MediaMessage.downloadable(media(), { type: "ptv" }), "video")
        assertMedia(yield* MediaMessage.downloadable(media(), { type: " Sticker " }), "sticker")
        assertMedia(yield* MediaMessage.downloadable({ imageMessage: media() }, { type: "image" }), "image")
      }))

    it.effect("needs a type for an inner message, and a known one", () =>
      Effect.gen(function*() {
        const noType = yield* Effect.flip(MediaMessage.downloadable(media()))
        assert.strictEqual(noType._tag, "MediaMessageError")
        assert.strictEqual(noType._tag === "MediaMessageError" && noType.reason, "NoMedia")
        assert.isTrue(Option.isNone(MediaMessage.mediaKind(media())))
        const unknown = yield* Effect.flip(MediaMessage.downloadable(media(), { type: "hologram" }))
        assert.strictEqual(unknown._tag, "UnknownMediaType")
      }))

    it.effect("rejects a type that contradicts the wrapper", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(MediaMessage.downloadable({ videoMessage: media() }, { type: "audio" }))
        assert.strictEqual(error._tag, "MediaMessageError")
        assert.strictEqual(error._tag === "MediaMessageError" && error.reason, "InvalidField")
      }))

    const lengths: ReadonlyArray<readonly [string, unknown, number]> = [
      ["a number", 5_000_000_000, 5_000_000_000],
      ["a bigint", 5_000_000_000n, 5_000_000_000],
      ["a Long with methods", new Long(705032704, 1, true), 5_000_000_000],
      ["a signed Long with methods", new Long(-1, 0, false), 4294967295],
      ["a Long without methods", { low: 705032704, high: 1, unsigned: false }, 5_000_000_000],
      ["a Long after a JSON round trip", JSON.parse(JSON.stringify(new Long(12345, 0, true))), 12345],
      ["a decimal string", "5000000000", 5_000_000_000],
      ["zero", 0, 0]
    ]
    for (const [name, value, expected] of lengths) {
      it.effect(`reads fileLength as ${name}`, () =>
        Effect.gen(function*() {
          const d = yield* MediaMessage.downloadable({ imageMessage: media({ fileLength: value }) })
          assert.strictEqual(d.fileLength, expected)
        }))
    }

    it.effect("rejects a negative, fractional, oversized or non-numeric fileLength", () =>
      Effect.gen(function*() {
        for (const value of [-1, 1.5, "12a", 2n ** 60n, { low: 0, high: 0x40000000, unsigned: true }, true, [1]]) {
          const error = yield* Effect.flip(MediaMessage.downloadable({ imageMessage: media({ fileLength: value }) }))
          assert.strictEqual(error._tag, "MediaMessageError")
          assert.strictEqual(error._tag === "MediaMessageError" && error.reason, "InvalidField")
          assert.include(error.message, "fileLength")
        }
      }))

    const byteForms: ReadonlyArray<readonly [string, (bytes: Uint8Array) => unknown]> = [
      ["Uint8Array", (bytes) => new Uint8Array(bytes)],
      ["Buffer", (bytes) => Buffer.from(bytes)],
      ["base64", b64],
      ["url-safe base64", b64url],
      ["base64 without padding", (bytes) => b64(bytes).replace(/=+$/, "")],
      ["a JSON Buffer", (bytes) => JSON.parse(JSON.stringify(Buffer.from(bytes)))],
      ["a BufferJSON Buffer", (bytes) => ({ type: "Buffer", data: b64(bytes) })],
      ["a JSON Uint8Array", (bytes) => JSON.parse(JSON.stringify(new Uint8Array(bytes)))]
    ]
    for (const [name, form] of byteForms) {
      it.effect(`reads byte fields as ${name}`, () =>
        Effect.gen(function*() {
          const message = {
            imageMessage: media({
              mediaKey: form(mediaKey),
              fileSha256: form(fileSha256),
              fileEncSha256: form(fileEncSha256),
              thumbnailDirectPath: "/thumb",
              thumbnailSha256: form(thumbSha256),
              thumbnailEncSha256: form(thumbEncSha256)
            })
          }
          const d = yield* MediaMessage.downloadable(message)
          assertMedia(d, "image")
          assert.isFalse(Buffer.isBuffer(d.fileSha256))
          const t = yield* MediaMessage.thumbnail(message)
          assert.deepStrictEqual(t.fileSha256, thumbSha256)
          assert.deepStrictEqual(t.fileEncSha256, thumbEncSha256)
        }))
    }

    it.effect("rejects bytes that are not bytes, and hashes of the wrong length", () =>
      Effect.gen(function*() {
        for (
          const fields of [
            { fileSha256: "not base64!" },
            { fileSha256: 42 },
            { fileSha256: { type: "Buffer", data: [1, 256] } },
            { fileSha256: "AAAAA" },
            { fileEncSha256: new Uint8Array(31) },
            { mediaKey: "%%%" },
            // Characters Node's decoder would silently skip, and mixed alphabets.
            { fileSha256: `${"A".repeat(20)}*${"A".repeat(22)}` },
            { fileSha256: `${"A".repeat(42)}+_` },
            { fileSha256: `${"A".repeat(43)}=AAAA` }
          ]
        ) {
          const error = yield* Effect.flip(MediaMessage.downloadable({ imageMessage: media(fields) }))
          assert.strictEqual(error._tag, "MediaMessageError")
          assert.strictEqual(error._tag === "MediaMessageError" && error.reason, "InvalidField")
        }
      }))

    it.effect("keeps what hashes there are and allows none", () =>
      Effect.gen(function*() {
        const d = yield* MediaMessage.downloadable({
          imageMessage: { directPath, mediaKey, fileEncSha256, fileSha256: new Uint8Array(0) }
        })
        assert.deepStrictEqual(d.fileEncSha256, fileEncSha256)
        assert.isFalse("fileSha256" in d)
        assert.isFalse("fileLength" in d)
        assert.isFalse("url" in d)
      }))

    it.effect("reads channel media: no key, a staticUrl used as is", () =>
      Effect.gen(function*() {
        const staticUrl = "https://static.whatsapp.net/downloadable?category=channel&id=1"
        const d = yield* MediaMessage.downloadable({
          imageMessage: { staticUrl, fileSha256: b64(fileSha256), fileLength: "10", mediaKey: "" }
        })
        assert.deepStrictEqual(d, { mediaType: "image", staticUrl, fileSha256, fileLength: 10 })
      }))

    it.effect("needs a directPath, an https url or a staticUrl", () =>
      Effect.gen(function*() {
        for (const fields of [{ directPath: undefined, url: undefined }, { directPath: "", url: "http://mmg/x" }]) {
          const error = yield* Effect.flip(MediaMessage.downloadable({ imageMessage: media(fields) }))
          assert.strictEqual(error._tag, "MediaMessageError")
          assert.strictEqual(error._tag === "MediaMessageError" && error.reason, "MissingField")
        }
        const onlyUrl = yield* MediaMessage.downloadable({ imageMessage: media({ directPath: null }) })
        assert.strictEqual(onlyUrl.url, url)
        assert.isFalse("directPath" in onlyUrl)
        const badPath = yield* Effect.flip(MediaMessage.downloadable({ imageMessage: media({ directPath: "v/t62" }) }))
        assert.strictEqual(badPath._tag === "MediaMessageError" && badPath.reason, "InvalidField")
      }))

    it.effect("rejects a media key of the wrong length with InvalidMediaKey", () =>
      Effect.gen(function*() {
        for (const length of [16, 31, 33, 64]) {
          const error = yield* Effect.flip(
            MediaMessage.downloadable({ imageMessage: media({ mediaKey: b64(new Uint8Array(length)) }) })
          )
          assert.strictEqual(error._tag, "InvalidMediaKey")
          assert.strictEqual(error._tag === "InvalidMediaKey" && error.length, length)
        }
      }))

    it.effect("never puts the media key in output or errors", () =>
      Effect.gen(function*() {
        const d = yield* MediaMessage.downloadable({ imageMessage: media() })
        for (const text of [String(d.mediaKey), JSON.stringify(d), JSON.stringify(d.mediaKey)]) {
          assert.notInclude(text, b64(mediaKey))
          assert.notInclude(text, vectors.media_key)
        }
        const error = yield* Effect.flip(
          MediaMessage.downloadable({ imageMessage: media({ mediaKey: b64(mediaKey.subarray(1)) }) })
        )
        assert.notInclude(error.message, b64(mediaKey.subarray(1)))
      }))

    it.effect("names the field and what it must be in every field error, never quoting the value", () =>
      Effect.gen(function*() {
        const badKey = `${b64(mediaKey).slice(0, 20)}!!`
        const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
          [{ directPath: "v/no-slash" }, `directPath must be a path starting with "/"`],
          [{ directPath: 5 }, "directPath must be a string"],
          [{ fileSha256: new Uint8Array(3) }, "fileSha256 must be 32 bytes, got 3"],
          [{ fileEncSha256: [1, 2, 300] }, "fileEncSha256 is not bytes (got an array)"],
          [{ fileLength: -3 }, "fileLength must be a non-negative integer"],
          [{ mediaKey: badKey }, "mediaKey is not bytes (got string)"],
          [{ mediaKey: { type: "Buffer", data: 5 } }, "mediaKey is not bytes (got object)"]
        ]
        for (const [fields, detail] of cases) {
          const error = yield* Effect.flip(MediaMessage.downloadable({ imageMessage: media(fields) }))
          assert.strictEqual(error._tag, "MediaMessageError")
          assert.strictEqual(error._tag === "MediaMessageError" && error.detail, detail)
          assert.notInclude(error.message, badKey)
        }
        const forwarded = yield* Effect.flip(MediaMessage.forward({ videoMessage: media({ gifPlayback: "yes" }) }))
        assert.strictEqual(forwarded._tag === "MediaMessageError" && forwarded.detail, "gifPlayback must be a boolean")
      }))

    it.effect("reads raw parameters", () =>
      Effect.gen(function*() {
        const d = yield* MediaMessage.fromParams({
          type: "image",
          directPath,
          url,
          mediaKey: b64(mediaKey),
          fileEncSha256: b64url(fileEncSha256),
          fileSha256,
          fileLength: "12345"
        })
        assertMedia(d, "image")
        const redacted = yield* MediaMessage.fromParams({
          type: "ptt",
          directPath,
          mediaKey: Redacted.make(mediaKey),
          fileEncSha256
        })
        assert.strictEqual(redacted.mediaType, "audio")
        assert.strictEqual(keyOf(redacted), vectors.media_key)
        const short = yield* Effect.flip(MediaMessage.fromParams({ type: "image", directPath, mediaKey: "AAAA" }))
        assert.strictEqual(short._tag, "InvalidMediaKey")
        const unknown = yield* Effect.flip(MediaMessage.fromParams({ type: "film", directPath }))
        assert.strictEqual(unknown._tag, "UnknownMediaType")
        const catalog = yield* Effect.flip(
          MediaMessage.fromParams({ type: "product-catalog-image", directPath, mediaKey })
        )
        assert.strictEqual(catalog._tag === "MediaMessageError" && catalog.reason, "InvalidField")
      }))

    // Synchronous runs: the readers are pure, and a run per value keeps a few hundred cases fast.
    const tags = ["MediaMessageError", "InvalidMediaKey", "UnknownMediaType"]
    const assertTyped = (effect: Effect.Effect<unknown, { readonly _tag: string }>) => {
      const exit = Effect.runSyncExit(effect)
      if (Exit.isFailure(exit)) {
        assert.strictEqual(exit.cause._tag, "Fail", "a failure is a typed error, not a defect")
        if (exit.cause._tag === "Fail") assert.include(tags, exit.cause.error._tag)
      }
      return exit
    }

    it.prop(
      "turns any value into a Downloadable or a typed error, never a throw",
      [fc.anything({ withBigInt: true, withTypedArray: true, withNullPrototype: true, withMap: true })],
      ([value]) => {
        assertTyped(MediaMessage.downloadable(value))
        assertTyped(MediaMessage.downloadable(value, { type: "image" }))
        assertTyped(MediaMessage.downloadable({ imageMessage: value }))
        assertTyped(MediaMessage.downloadable({ viewOnceMessage: { message: value } }))
        assertTyped(MediaMessage.thumbnail(value, { type: "video" }))
        assertTyped(MediaMessage.forward(value, { type: "document" }))
      },
      { fastCheck: { numRuns: 300, endOnFailure: true } }
    )

    it.prop(
      "reads field-shaped garbage as a typed error or a usable Downloadable",
      [fc.dictionary(
        fc.constantFrom("directPath", "url", "staticUrl", "mediaKey", "fileSha256", "fileEncSha256", "fileLength"),
        fc.oneof(fc.anything(), fc.base64String(), fc.uint8Array({ minLength: 30, maxLength: 34 }))
      )],
      ([fields]) => {
        const exit = assertTyped(MediaMessage.downloadable({ stickerMessage: fields }))
        if (Exit.isSuccess(exit)) {
          const d = exit.value as MediaMessage.Downloadable
          assert.isTrue(d.directPath !== undefined || d.url !== undefined || d.staticUrl !== undefined)
          if (d.mediaKey !== undefined) assert.strictEqual(Redacted.value(d.mediaKey).length, 32)
          if (d.fileSha256 !== undefined) assert.strictEqual(d.fileSha256.length, 32)
        }
      },
      { fastCheck: { numRuns: 300, endOnFailure: true } }
    )

    it.effect("survives cyclic messages", () =>
      Effect.gen(function*() {
        const cyclic: Record<string, unknown> = {}
        cyclic.ephemeralMessage = { message: cyclic }
        const error = yield* Effect.flip(MediaMessage.downloadable(cyclic))
        assert.strictEqual(error._tag === "MediaMessageError" && error.reason, "NoMedia")
      }))
  })

  describe("bytes and long", () => {
    it.prop("read back every byte string in every form", [fc.uint8Array({ maxLength: 80 })], ([data]) => {
      for (const form of [data, Buffer.from(data), b64(data), b64url(data), Array.from(data)]) {
        assertSome(MediaMessage.bytes(form), new Uint8Array(data))
      }
    })

    it.prop("read back every safe integer in every form", [fc.maxSafeNat()], ([n]) => {
      const big = BigInt(n)
      const low = Number(big & 0xffffffffn) | 0
      const high = Number(big >> 32n) | 0
      for (const form of [n, big, String(n), { low, high, unsigned: false }, new Long(low, high, true)]) {
        assertSome(MediaMessage.long(form), n)
      }
    })

    it("reads the sign of a signed Long and not of an unsigned one", () => {
      assertSome(MediaMessage.long({ low: -5, high: -1, unsigned: false }), -5)
      assertSome(MediaMessage.long(new Long(-1, 0x1fffff, false)), 2 ** 53 - 1)
      assert.isTrue(Option.isNone(MediaMessage.long({ low: -5, high: -1, unsigned: true })))
      assertSome(MediaMessage.long("-7"), -7)
    })

    it("rejects what is neither", () => {
      for (const value of [undefined, null, true, "a b", "====", { type: "Buffer" }, [1.5], {}]) {
        assert.isTrue(Option.isNone(MediaMessage.bytes(value)))
      }
      for (const value of [undefined, null, 1.5, NaN, "1e3", "", {}, { low: 1 }, 2 ** 53]) {
        assert.isTrue(Option.isNone(MediaMessage.long(value)))
      }
    })
  })

  describe("thumbnail", () => {
    const withThumbnail = (extra: Record<string, unknown> = {}) =>
      media({
        thumbnailDirectPath: "/v/t62.36145-24/thumb.enc?ccb=11-4",
        thumbnailSha256: b64(thumbSha256),
        thumbnailEncSha256: thumbEncSha256,
        jpegThumbnail: new Uint8Array([0xff, 0xd8]),
        ...extra
      })

    const parents: ReadonlyArray<readonly [string, MediaType.MediaType]> = [
      ["imageMessage", "image-thumbnail"],
      ["videoMessage", "video-thumbnail"],
      ["ptvMessage", "video-thumbnail"],
      ["documentMessage", "document-thumbnail"],
      ["extendedTextMessage", "link-thumbnail"],
      ["stickerPackMessage", "sticker-pack-thumbnail"]
    ]
    for (const [kind, type] of parents) {
      it.effect(`reads the server-hosted thumbnail of a ${kind} as ${type} with the parent's key`, () =>
        Effect.gen(function*() {
          const t = yield* MediaMessage.thumbnail({ [kind]: withThumbnail() })
          assert.deepStrictEqual(t, {
            mediaType: type,
            directPath: "/v/t62.36145-24/thumb.enc?ccb=11-4",
            mediaKey: t.mediaKey!,
            fileSha256: thumbSha256,
            fileEncSha256: thumbEncSha256
          })
          assert.strictEqual(keyOf(t), vectors.media_key)
        }))
    }

    it.effect("downloads a link preview as its link-thumbnail", () =>
      Effect.gen(function*() {
        const message = {
          extendedTextMessage: {
            text: "https://example.com",
            matchedText: "https://example.com",
            thumbnailDirectPath: "/link",
            thumbnailSha256: thumbSha256,
            thumbnailEncSha256: thumbEncSha256,
            mediaKey,
            mediaKeyTimestamp: 1
          }
        }
        const d = yield* MediaMessage.downloadable(message)
        assert.strictEqual(d.mediaType, "link-thumbnail")
        assert.strictEqual(d.directPath, "/link")
        assert.deepStrictEqual(yield* MediaMessage.thumbnail(message), d)
        const text = yield* Effect.flip(MediaMessage.downloadable({ extendedTextMessage: { text: "hi" } }))
        assert.strictEqual(text._tag === "MediaMessageError" && text.reason, "NoMedia")
      }))

    it.effect("reads the thumbnail of an inner message by its parent or thumbnail type", () =>
      Effect.gen(function*() {
        const byParent = yield* MediaMessage.thumbnail(withThumbnail(), { type: "document" })
        assert.strictEqual(byParent.mediaType, "document-thumbnail")
        const byType = yield* MediaMessage.thumbnail(withThumbnail(), { type: "video-thumbnail" })
        assert.strictEqual(byType.mediaType, "video-thumbnail")
        const viaDownloadable = yield* MediaMessage.downloadable({ imageMessage: withThumbnail() }, {
          type: "image-thumbnail"
        })
        assert.strictEqual(viaDownloadable.mediaType, "image-thumbnail")
        assert.strictEqual(viaDownloadable.directPath, "/v/t62.36145-24/thumb.enc?ccb=11-4")
        const wrongThumb = yield* Effect.flip(
          MediaMessage.downloadable({ imageMessage: withThumbnail() }, { type: "video-thumbnail" })
        )
        assert.strictEqual(wrongThumb._tag === "MediaMessageError" && wrongThumb.reason, "InvalidField")
      }))

    it.effect("fails with NoMedia when there is no server-hosted thumbnail", () =>
      Effect.gen(function*() {
        for (
          const message of [
            { imageMessage: media() },
            { audioMessage: withThumbnail() },
            { stickerMessage: withThumbnail() },
            { historySyncNotification: media() }
          ]
        ) {
          const error = yield* Effect.flip(MediaMessage.thumbnail(message))
          assert.strictEqual(error._tag === "MediaMessageError" && error.reason, "NoMedia")
        }
        const inner = yield* Effect.flip(MediaMessage.thumbnail(withThumbnail(), { type: "audio" }))
        assert.strictEqual(inner._tag === "MediaMessageError" && inner.reason, "NoMedia")
      }))

    it.effect("checks the parent's key", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          MediaMessage.thumbnail({ imageMessage: withThumbnail({ mediaKey: otherKey.subarray(2) }) })
        )
        assert.strictEqual(error._tag, "InvalidMediaKey")
      }))
  })

  describe("builders", () => {
    it.effect("build an imageMessage with exactly the upload's fields and the metadata", () =>
      Effect.gen(function*() {
        const jpegThumbnail = new Uint8Array([0xff, 0xd8, 0xff])
        const message = yield* MediaMessage.image(uploaded("image"), {
          caption: "hello",
          width: 640,
          height: 480,
          jpegThumbnail,
          contextInfo: { isForwarded: true }
        })
        assert.deepStrictEqual(message, {
          imageMessage: {
            url,
            directPath,
            mediaKey,
            fileSha256,
            fileEncSha256,
            fileLength: 12345,
            mediaKeyTimestamp: 1700000000,
            mimetype: "image/jpeg",
            caption: "hello",
            width: 640,
            height: 480,
            jpegThumbnail,
            contextInfo: { isForwarded: true }
          }
        })
        assert.instanceOf(message.imageMessage.mediaKey, Uint8Array)
      }))

    it.effect("build video, ptv, audio, document and sticker messages", () =>
      Effect.gen(function*() {
        const streamingSidecar = new Uint8Array(20).fill(9)
        const common = {
          url,
          directPath,
          mediaKey,
          fileSha256,
          fileEncSha256,
          fileLength: 12345,
          mediaKeyTimestamp: 1700000000
        }
        assert.deepStrictEqual(
          yield* MediaMessage.video(uploaded("video", { streamingSidecar }), {
            caption: "clip",
            seconds: 12,
            gifPlayback: true,
            width: 1,
            height: 2
          }),
          {
            videoMessage: {
              ...common,
              mimetype: "video/mp4",
              caption: "clip",
              seconds: 12,
              gifPlayback: true,
              width: 1,
              height: 2,
              streamingSidecar
            }
          }
        )
        assert.deepStrictEqual(yield* MediaMessage.ptv(uploaded("video"), { seconds: 3 }), {
          ptvMessage: { ...common, mimetype: "video/mp4", seconds: 3 }
        })
        assert.deepStrictEqual(
          yield* MediaMessage.audio(uploaded("audio", { streamingSidecar }), { ptt: true, seconds: 4 }),
          { audioMessage: { ...common, mimetype: "audio/ogg; codecs=opus", ptt: true, seconds: 4, streamingSidecar } }
        )
        assert.deepStrictEqual(
          yield* MediaMessage.document(uploaded("document"), {
            mimetype: "application/pdf",
            fileName: "a.pdf",
            title: "A",
            pageCount: 3,
            caption: "doc"
          }),
          {
            documentMessage: {
              ...common,
              mimetype: "application/pdf",
              fileName: "a.pdf",
              title: "A",
              pageCount: 3,
              caption: "doc"
            }
          }
        )
        const pngThumbnail = new Uint8Array([0x89, 0x50])
        assert.deepStrictEqual(
          yield* MediaMessage.sticker(uploaded("sticker"), {
            isAnimated: false,
            pngThumbnail,
            width: 512,
            height: 512
          }),
          {
            stickerMessage: {
              ...common,
              mimetype: "image/webp",
              isAnimated: false,
              pngThumbnail,
              width: 512,
              height: 512
            }
          }
        )
        // A sticker is encrypted with the image keys, so an image upload can be sent as one.
        assert.isDefined((yield* MediaMessage.sticker(uploaded("image"))).stickerMessage)
      }))

    it.effect("refuse an upload whose keys belong to another type", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(MediaMessage.image(uploaded("audio")))
        assert.strictEqual(error.reason, "InvalidField")
        assert.strictEqual((yield* Effect.flip(MediaMessage.audio(uploaded("video")))).reason, "InvalidField")
        assert.strictEqual((yield* Effect.flip(MediaMessage.document(uploaded("image")))).reason, "InvalidField")
      }))

    it.effect("build messages that read back to the upload", () =>
      Effect.gen(function*() {
        const cases = [
          [yield* MediaMessage.image(uploaded("image")), "image"],
          [yield* MediaMessage.video(uploaded("video")), "video"],
          [yield* MediaMessage.ptv(uploaded("video")), "video"],
          [yield* MediaMessage.audio(uploaded("audio"), { ptt: true }), "audio"],
          [yield* MediaMessage.document(uploaded("document")), "document"],
          [yield* MediaMessage.sticker(uploaded("sticker")), "sticker"]
        ] as const
        for (const [message, type] of cases) {
          const d = yield* MediaMessage.downloadable(message)
          assertMedia(d, type)
          // Through a JSON round trip (bytes become JSON Buffers or objects) too.
          const json = JSON.parse(JSON.stringify(message, (_, v) => v instanceof Uint8Array ? Buffer.from(v) : v))
          assertMedia(yield* MediaMessage.downloadable(json), type)
          const upload = MediaMessage.fromUpload(uploaded(type))
          assert.deepStrictEqual({ ...d, mediaKey: keyOf(d) }, { ...upload, mediaKey: keyOf(upload) })
        }
      }))
  })

  describe("forward", () => {
    const incoming = {
      key: { remoteJid: "123@s.whatsapp.net", fromMe: false, id: "3EB0ABC" },
      message: {
        videoMessage: {
          url,
          directPath,
          mediaKey: b64(mediaKey),
          fileSha256: Buffer.from(fileSha256),
          fileEncSha256: b64url(fileEncSha256),
          fileLength: new Long(12345, 0, true),
          mediaKeyTimestamp: { low: 1700000000, high: 0, unsigned: false },
          mimetype: "video/mp4",
          caption: "original",
          seconds: 7,
          gifPlayback: true,
          height: 720,
          width: 1280,
          jpegThumbnail: b64(new Uint8Array([0xff, 0xd8, 0x01])),
          thumbnailDirectPath: "/thumb",
          thumbnailSha256: thumbSha256,
          thumbnailEncSha256: thumbEncSha256,
          streamingSidecar: b64(new Uint8Array([1, 2, 3])),
          contextInfo: { stanzaId: "QUOTED", participant: "9@s.whatsapp.net" },
          interactiveAnnotations: [],
          viewOnce: false
        },
        messageContextInfo: { messageSecret: b64(new Uint8Array(32)) }
      }
    }

    const forwardedVideo = {
      url,
      directPath,
      mediaKey,
      fileSha256,
      fileEncSha256,
      fileLength: 12345,
      mediaKeyTimestamp: 1700000000,
      mimetype: "video/mp4",
      seconds: 7,
      gifPlayback: true,
      height: 720,
      width: 1280,
      jpegThumbnail: new Uint8Array([0xff, 0xd8, 0x01]),
      thumbnailDirectPath: "/thumb",
      thumbnailSha256: thumbSha256,
      thumbnailEncSha256: thumbEncSha256,
      streamingSidecar: new Uint8Array([1, 2, 3])
    }

    it.effect("copies the media fields into a new message and replaces the caption", () =>
      Effect.gen(function*() {
        const message = yield* MediaMessage.forward(incoming, { caption: "look" })
        assert.deepStrictEqual(message, { videoMessage: { ...forwardedVideo, caption: "look" } })
        const d = yield* MediaMessage.downloadable(message)
        assertMedia(d, "video")
      }))

    it.effect("keeps the caption unless told, and removes it with an empty one", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* MediaMessage.forward(incoming), {
          videoMessage: { ...forwardedVideo, caption: "original" }
        })
        assert.deepStrictEqual(yield* MediaMessage.forward(incoming, { caption: "" }), { videoMessage: forwardedVideo })
        assert.deepStrictEqual(
          yield* MediaMessage.forward(incoming, {
            caption: "",
            contextInfo: { isForwarded: true, forwardingScore: 1 }
          }),
          { videoMessage: { ...forwardedVideo, contextInfo: { isForwarded: true, forwardingScore: 1 } } }
        )
      }))

    it.effect("keeps the kind: ptv, sticker, audio, document in a caption wrapper", () =>
      Effect.gen(function*() {
        const ptv = yield* MediaMessage.forward({ ptvMessage: media({ mimetype: "video/mp4", seconds: 2 }) })
        assert.deepStrictEqual(Object.keys(ptv), ["ptvMessage"])
        const sticker = yield* MediaMessage.forward({
          stickerMessage: media({ isAnimated: true, pngThumbnail: b64(new Uint8Array([1])), stickerSentTs: 5 })
        })
        assert.deepStrictEqual(sticker, {
          stickerMessage: {
            ...media({ mimetype: "image/jpeg" }),
            isAnimated: true,
            pngThumbnail: new Uint8Array([1])
          }
        })
        const audio = yield* MediaMessage.forward({ audioMessage: media({ ptt: true, seconds: "9" }) })
        assert.deepStrictEqual(audio, { audioMessage: { ...media(), ptt: true, seconds: 9 } })
        const document = yield* MediaMessage.forward({
          documentWithCaptionMessage: {
            message: { documentMessage: media({ fileName: "a.pdf", caption: "c", pageCount: 2 }) }
          }
        }, { caption: "new" })
        assert.deepStrictEqual(document, {
          documentMessage: { ...media(), fileName: "a.pdf", pageCount: 2, caption: "new" }
        })
        const inner = yield* MediaMessage.forward(media(), { type: "image" })
        assert.deepStrictEqual(inner, { imageMessage: media() })
      }))

    it.effect("refuses what cannot be forwarded", () =>
      Effect.gen(function*() {
        const caption = yield* Effect.flip(MediaMessage.forward({ audioMessage: media() }, { caption: "x" }))
        assert.strictEqual(caption._tag === "MediaMessageError" && caption.reason, "InvalidField")
        const history = yield* Effect.flip(MediaMessage.forward({ historySyncNotification: media() }))
        assert.strictEqual(history._tag === "MediaMessageError" && history.reason, "NoMedia")
        const nothing = yield* Effect.flip(MediaMessage.forward({ conversation: "hi" }))
        assert.strictEqual(nothing._tag === "MediaMessageError" && nothing.reason, "NoMedia")
        const missing = yield* Effect.flip(MediaMessage.forward({ imageMessage: { mediaKey } }))
        assert.strictEqual(missing._tag === "MediaMessageError" && missing.reason, "MissingField")
        const key = yield* Effect.flip(MediaMessage.forward({ imageMessage: media({ mediaKey: new Uint8Array(3) }) }))
        assert.strictEqual(key._tag, "InvalidMediaKey")
      }))
  })

  describe("withThumbnailFrom", () => {
    const incoming = {
      imageMessage: media({
        jpegThumbnail: b64(new Uint8Array([0xff, 0xd8, 0x02])),
        thumbnailDirectPath: "/thumb",
        thumbnailSha256: b64(thumbSha256),
        thumbnailEncSha256: thumbEncSha256
      })
    }

    it.effect("reuses the inline and the server-hosted thumbnail under the same key", () =>
      Effect.gen(function*() {
        const built = yield* MediaMessage.image(uploaded("image"), { caption: "c" })
        const message = yield* MediaMessage.withThumbnailFrom(incoming, built)
        assert.deepStrictEqual(message, {
          imageMessage: {
            ...built.imageMessage,
            jpegThumbnail: new Uint8Array([0xff, 0xd8, 0x02]),
            thumbnailDirectPath: "/thumb",
            thumbnailSha256: thumbSha256,
            thumbnailEncSha256: thumbEncSha256
          }
        })
        const t = yield* MediaMessage.thumbnail(message)
        assert.strictEqual(t.mediaType, "image-thumbnail")
      }))

    it.effect("reuses only the inline thumbnail under a new key or another thumbnail type", () =>
      Effect.gen(function*() {
        const rekeyed = yield* MediaMessage.image(uploaded("image", { mediaKey: Redacted.make(otherKey) }))
        assert.deepStrictEqual(yield* MediaMessage.withThumbnailFrom(incoming, rekeyed), {
          imageMessage: { ...rekeyed.imageMessage, jpegThumbnail: new Uint8Array([0xff, 0xd8, 0x02]) }
        })
        const asVideo = yield* MediaMessage.video(uploaded("video"))
        const reused = yield* MediaMessage.withThumbnailFrom(incoming, asVideo)
        assert.deepStrictEqual(reused.videoMessage.jpegThumbnail, new Uint8Array([0xff, 0xd8, 0x02]))
        assert.isUndefined(reused.videoMessage.thumbnailDirectPath)
      }))

    it.effect("uses the PNG thumbnail for stickers and fails when there is nothing to reuse", () =>
      Effect.gen(function*() {
        const sticker = yield* MediaMessage.sticker(uploaded("sticker"))
        const png = new Uint8Array([0x89, 0x50, 0x4e])
        const reused = yield* MediaMessage.withThumbnailFrom({ stickerMessage: media({ pngThumbnail: png }) }, sticker)
        assert.deepStrictEqual(reused.stickerMessage.pngThumbnail, png)
        const none = yield* Effect.flip(MediaMessage.withThumbnailFrom(incoming, sticker))
        assert.strictEqual(none._tag === "MediaMessageError" && none.reason, "NoMedia")
        const audio = yield* Effect.flip(
          MediaMessage.withThumbnailFrom(incoming, yield* MediaMessage.audio(uploaded("audio")))
        )
        assert.strictEqual(audio._tag === "MediaMessageError" && audio.reason, "InvalidField")
      }))
  })

  describe("album", () => {
    it.effect("builds the parent with the counts and wraps every child", () =>
      Effect.gen(function*() {
        const first = yield* MediaMessage.image(uploaded("image"))
        const second = yield* MediaMessage.video(uploaded("video"))
        const third = yield* MediaMessage.image(uploaded("image"), { caption: "3" })
        const parentMessageKey = { remoteJid: "123@g.us", fromMe: true, id: "3EB0PARENT" }
        const { children, parent } = yield* MediaMessage.album({
          children: [first, second, third],
          parentMessageKey
        })
        assert.deepStrictEqual(parent, { albumMessage: { expectedImageCount: 2, expectedVideoCount: 1 } })
        assert.deepStrictEqual(
          children,
          [first, second, third].map((child) => ({
            associatedChildMessage: { message: child },
            messageContextInfo: { messageAssociation: { associationType: 1, parentMessageKey } }
          }))
        )
        assert.strictEqual(MediaMessage.MEDIA_ALBUM, 1)
        // Both parts are `WAProto.Message` shapes.
        const messages: ReadonlyArray<MediaMessage.Message> = [parent, ...children]
        assert.strictEqual(messages.length, 4)
        // Each child still reads as its media.
        assertMedia(yield* MediaMessage.downloadable(children[1]), "video")
      }))

    it.effect("refuses an empty album, a parent key without id and a foreign child", () =>
      Effect.gen(function*() {
        const image = yield* MediaMessage.image(uploaded("image"))
        const empty = yield* Effect.flip(MediaMessage.album({ children: [], parentMessageKey: { id: "X" } }))
        assert.strictEqual(empty.reason, "InvalidField")
        const noId = yield* Effect.flip(MediaMessage.album({ children: [image], parentMessageKey: {} }))
        assert.strictEqual(noId.reason, "InvalidField")
        // A protobuf.js key with the id left null, as a decoded message may carry it.
        const nullId = yield* Effect.flip(MediaMessage.album({ children: [image], parentMessageKey: { id: null } }))
        assert.strictEqual(nullId.reason, "InvalidField")
        const audio = yield* MediaMessage.audio(uploaded("audio"))
        const foreign = yield* Effect.flip(
          MediaMessage.album({ children: [image, audio], parentMessageKey: { id: "X" } })
        )
        assert.strictEqual(foreign.reason, "InvalidField")
        // A protobuf.js `Message` whose image field is null holds neither an image nor a video.
        const nullImage = yield* Effect.flip(
          MediaMessage.album({ children: [{ imageMessage: null }], parentMessageKey: { id: "X" } })
        )
        assert.strictEqual(nullImage.reason, "InvalidField")
      }))
  })
})

describe("MediaMessage.withDirectPath", () => {
  const image = { directPath: "/v/old.enc", url: "https://mmg.whatsapp.net/v/old.enc", mediaKey, caption: "hi" }

  it("replaces the directPath through wrappers, drops the url and leaves the input alone", () => {
    const info = {
      key: { id: "3EB0", remoteJid: "1@s.whatsapp.net" },
      message: { viewOnceMessageV2: { message: { imageMessage: image } } }
    }
    const updated = MediaMessage.withDirectPath(info, "/v/new.enc")
    assert.deepStrictEqual(
      updated,
      Option.some({
        key: info.key,
        message: {
          viewOnceMessageV2: { message: { imageMessage: { directPath: "/v/new.enc", mediaKey, caption: "hi" } } }
        }
      })
    )
    assert.strictEqual(info.message.viewOnceMessageV2.message.imageMessage.directPath, "/v/old.enc")
    // Objects off the path are shared, not copied.
    assert.strictEqual(Option.getOrThrow(updated).key, info.key)
    const edited = { protocolMessage: { editedMessage: { documentMessage: image } } }
    assert.strictEqual(
      Option.getOrThrow(MediaMessage.withDirectPath(edited, "/v/doc.enc")).protocolMessage.editedMessage.documentMessage
        .directPath,
      "/v/doc.enc"
    )
  })

  it("is None for a message without media", () => {
    assert.isTrue(Option.isNone(MediaMessage.withDirectPath({ conversation: "hello" }, "/v/new.enc")))
    assert.isTrue(Option.isNone(MediaMessage.withDirectPath(null, "/v/new.enc")))
  })
})
