import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Layer, Option, Redacted, Scope, Stream, TestClock } from "effect"
import { MediaConn, MediaCrypto, MediaMessage, MediaRetry } from "effect-wa-media"
import { MediaRetryError } from "effect-wa-media/MediaError"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import * as FakePhone from "effect-wa-media/testing/FakePhone"
import * as internal from "../src/internal/mediaRetry.js"
import { hex, toHex, vectors } from "./vectors.js"

const v = vectors.media_retry
const mediaKey = hex(v.media_key!)
const messageId = v.stanza_id!
const iv = hex(v.iv!)

const key = { remoteJid: "1234@s.whatsapp.net", fromMe: false, id: messageId }

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit))
  const failure = Exit.isFailure(exit) ? exit.cause : undefined
  assert.strictEqual(failure?._tag, "Fail")
  return (failure as { readonly error: E }).error
}

// A notification as the phone sends it: the sealed payload, or an error code.
const sealedNotification = (payload: MediaRetry.NotificationPayload, id = messageId) => ({
  tag: "notification",
  attrs: { id, type: "mediaretry", from: "5678@s.whatsapp.net" },
  content: [
    {
      tag: "encrypt",
      attrs: {},
      content: [
        { tag: "enc_p", attrs: {}, content: internal.seal(mediaKey, id, iv, internal.encodeNotification(payload)) },
        { tag: "enc_iv", attrs: {}, content: iv }
      ]
    },
    { tag: "rmr", attrs: { jid: key.remoteJid, from_me: "false" } }
  ]
})

const errorNotification = (code: string) => ({
  tag: "notification",
  attrs: { id: messageId, type: "mediaretry" },
  content: [{ tag: "error", attrs: { code } }]
})

describe("MediaRetry payloads", () => {
  it("encodes ServerErrorReceipt and decodes MediaRetryNotification as the vectors", () => {
    assert.strictEqual(toHex(internal.encodeServerErrorReceipt(messageId)), v.server_error_receipt_pb)
    assert.strictEqual(toHex(new TextEncoder().encode(messageId)), v.aad)
    const decoded = internal.decodeNotification(hex(v.notification_pb!))
    assert.deepStrictEqual(
      decoded,
      Either.right({ stanzaId: messageId, directPath: v.notification_direct_path!, result: 1 })
    )
    assert.strictEqual(
      toHex(internal.encodeNotification({ stanzaId: messageId, directPath: v.notification_direct_path!, result: 1 })),
      v.notification_pb
    )
    assert.strictEqual(toHex(internal.retryKey(mediaKey)), v.retry_key)
  })

  it.effect("encryptRequest matches the known answer with a fixed key, IV and id", () =>
    Effect.gen(function*() {
      const sealed = yield* MediaRetry.encryptRequest({ mediaKey, messageId, iv })
      assert.strictEqual(toHex(sealed.ciphertext), v.enc_p_ciphertext_with_tag)
      assert.strictEqual(toHex(sealed.iv), v.iv)
      // A redacted key gives the same bytes.
      const again = yield* MediaRetry.encryptRequest({ mediaKey: Redacted.make(mediaKey), messageId, iv })
      assert.strictEqual(toHex(again.ciphertext), v.enc_p_ciphertext_with_tag)
    }))

  it.effect("encryptRequest draws a fresh 12-byte IV, from MediaCrypto when it is provided", () =>
    Effect.gen(function*() {
      const a = yield* MediaRetry.encryptRequest({ mediaKey, messageId })
      const b = yield* MediaRetry.encryptRequest({ mediaKey, messageId })
      assert.strictEqual(a.iv.length, 12)
      assert.notStrictEqual(toHex(a.iv), toHex(b.iv))
      assert.notStrictEqual(toHex(a.ciphertext), toHex(b.ciphertext))
      const fromTest = (seed: string) =>
        MediaRetry.encryptRequest({ mediaKey, messageId }).pipe(Effect.provide(MediaCrypto.layerTest(seed)))
      const one = yield* fromTest("seed")
      const two = yield* fromTest("seed")
      assert.strictEqual(toHex(one.iv), toHex(two.iv))
      // The sealed request opens under the retry key with the message id as AAD.
      const plaintext = internal.open(mediaKey, messageId, one.iv, one.ciphertext)
      assert.strictEqual(toHex(plaintext!), v.server_error_receipt_pb)
    }))

  it.effect("encryptRequest rejects a media key that is not 32 bytes, and dies on an IV of another length", () =>
    Effect.gen(function*() {
      const error = failureOf(yield* Effect.exit(MediaRetry.encryptRequest({ mediaKey: mediaKey.slice(1), messageId })))
      assert.strictEqual(error._tag, "InvalidMediaKey")
      const exit = yield* Effect.exit(MediaRetry.encryptRequest({ mediaKey, messageId, iv: iv.slice(1) }))
      assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Die")
    }))

  it.effect("decryptNotification opens the known answer", () =>
    Effect.gen(function*() {
      const payload = yield* MediaRetry.decryptNotification({
        mediaKey,
        messageId,
        ciphertext: hex(v.notification_enc_p!),
        iv
      })
      assert.deepStrictEqual(payload, { stanzaId: messageId, directPath: v.notification_direct_path!, result: 1 })
    }))

  it.effect("every flipped bit, a wrong key, IV or id, a truncation is a MediaRetryError, never a throw", () =>
    Effect.gen(function*() {
      const ciphertext = hex(v.notification_enc_p!)
      const expectBadInput = (options: Parameters<typeof MediaRetry.decryptNotification>[0]) =>
        Effect.map(Effect.exit(MediaRetry.decryptNotification(options)), (exit) => {
          const error = failureOf(exit)
          assert.strictEqual(error._tag, "MediaRetryError")
          assert.strictEqual(error._tag === "MediaRetryError" ? error.reason : undefined, "BadInput")
        })
      for (let bit = 0; bit < ciphertext.length * 8; bit++) {
        const flipped = ciphertext.slice()
        flipped[bit >> 3]! ^= 1 << (bit & 7)
        yield* expectBadInput({ mediaKey, messageId, ciphertext: flipped, iv })
      }
      const otherKey = mediaKey.slice()
      otherKey[0]! ^= 1
      yield* expectBadInput({ mediaKey: otherKey, messageId, ciphertext, iv })
      const otherIv = iv.slice()
      otherIv[11]! ^= 0x80
      yield* expectBadInput({ mediaKey, messageId, ciphertext, iv: otherIv })
      yield* expectBadInput({ mediaKey, messageId, ciphertext, iv: iv.slice(0, 11) })
      yield* expectBadInput({ mediaKey, messageId: `${messageId}0`, ciphertext, iv })
      yield* expectBadInput({ mediaKey, messageId, ciphertext: ciphertext.slice(0, 15), iv })
      yield* expectBadInput({ mediaKey, messageId, ciphertext: ciphertext.slice(1), iv })
      const error = failureOf(
        yield* Effect.exit(MediaRetry.decryptNotification({ mediaKey: new Uint8Array(16), messageId, ciphertext, iv }))
      )
      assert.strictEqual(error._tag, "InvalidMediaKey")
    }))

  it.effect("an authentic payload that is not the protobuf is BadInput", () =>
    Effect.gen(function*() {
      // A length prefix running past the end.
      const ciphertext = internal.seal(mediaKey, messageId, iv, Uint8Array.of(0x0a, 0x40, 0x41))
      const error = failureOf(
        yield* Effect.exit(MediaRetry.decryptNotification({ mediaKey, messageId, ciphertext, iv }))
      )
      assert.strictEqual(error._tag === "MediaRetryError" && error.reason, "BadInput")
      assert.match(error.message, /not a MediaRetryNotification/)
      // Invalid UTF-8 in a string field.
      const badText = internal.seal(mediaKey, messageId, iv, Uint8Array.of(0x0a, 0x01, 0xff))
      const textError = failureOf(
        yield* Effect.exit(MediaRetry.decryptNotification({ mediaKey, messageId, ciphertext: badText, iv }))
      )
      assert.strictEqual(textError._tag === "MediaRetryError" && textError.reason, "BadInput")
    }))
})

describe("MediaRetry nodes", () => {
  it.effect("requestNode builds the server-error receipt that the phone can open", () =>
    Effect.gen(function*() {
      const node = yield* MediaRetry.requestNode({
        key: { ...key, participant: "999@s.whatsapp.net" },
        ownJid: "5678@s.whatsapp.net",
        mediaKey,
        iv
      })
      assert.deepStrictEqual(node, {
        tag: "receipt",
        attrs: { id: messageId, to: "5678@s.whatsapp.net", type: "server-error" },
        content: [
          {
            tag: "encrypt",
            attrs: {},
            content: [
              { tag: "enc_p", attrs: {}, content: hex(v.enc_p_ciphertext_with_tag!) },
              { tag: "enc_iv", attrs: {}, content: iv }
            ]
          },
          { tag: "rmr", attrs: { jid: key.remoteJid, from_me: "false", participant: "999@s.whatsapp.net" } }
        ]
      })
      const fromMe = yield* MediaRetry.requestNode({
        key: { ...key, fromMe: true, participant: null },
        ownJid: "me",
        mediaKey
      })
      const rmr = (fromMe.content as ReadonlyArray<MediaRetry.Notification["key"] & { attrs: object }>)[1]!
      assert.deepStrictEqual(rmr.attrs, { jid: key.remoteJid, from_me: "true" })
    }))

  it.effect("requestNode rejects a key without id or remoteJid", () =>
    Effect.gen(function*() {
      for (const bad of [{ ...key, id: "" }, { ...key, id: null }, { ...key, remoteJid: undefined }]) {
        const error = failureOf(yield* Effect.exit(MediaRetry.requestNode({ key: bad, ownJid: "me", mediaKey })))
        assert.strictEqual(error._tag === "MediaRetryError" && error.reason, "BadInput")
      }
    }))

  it.effect("a successful notification gives the fresh directPath", () =>
    Effect.gen(function*() {
      const node = sealedNotification({ stanzaId: messageId, directPath: "/v/t62.7118-24/fresh.enc", result: 1 })
      assert.isTrue(MediaRetry.isNotification(node))
      const notification = yield* MediaRetry.parseNotification(node)
      assert.strictEqual(notification.messageId, messageId)
      assert.deepStrictEqual(notification.key, {
        id: messageId,
        remoteJid: key.remoteJid,
        fromMe: false,
        participant: undefined
      })
      const reupload = yield* MediaRetry.openNotification(notification, mediaKey)
      assert.deepStrictEqual(reupload, { messageId, directPath: "/v/t62.7118-24/fresh.enc" })
    }))

  it.effect("the known-answer notification opens through the node path", () =>
    Effect.gen(function*() {
      const node = {
        tag: "notification",
        attrs: { id: messageId, type: "mediaretry" },
        content: [{
          tag: "encrypt",
          attrs: {},
          content: [
            { tag: "enc_p", attrs: {}, content: Buffer.from(v.notification_enc_p!, "hex") },
            { tag: "enc_iv", attrs: {}, content: Buffer.from(v.iv!, "hex") }
          ]
        }]
      }
      const reupload = yield* MediaRetry.openNotification(yield* MediaRetry.parseNotification(node), mediaKey)
      assert.strictEqual(reupload.directPath, v.notification_direct_path)
    }))

  const reasonOf = (node: unknown) =>
    Effect.gen(function*() {
      const notification = yield* MediaRetry.parseNotification(node)
      const error = failureOf(yield* Effect.exit(MediaRetry.openNotification(notification, mediaKey)))
      assert.strictEqual(error._tag, "MediaRetryError")
      return error._tag === "MediaRetryError" ? error : assert.fail("not a MediaRetryError")
    })

  it.effect("every result code of the payload is its reason", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [number, string]> = [
        [0, "GeneralError"],
        [2, "NotOnPhone"],
        [3, "DecryptionError"],
        [7, "GeneralError"]
      ]
      for (const [result, reason] of cases) {
        const error = yield* reasonOf(sealedNotification({ stanzaId: messageId, result }))
        assert.strictEqual(error.reason, reason)
        assert.strictEqual(error.code, result)
        assert.strictEqual(error.messageId, messageId)
      }
    }))

  it.effect("every <error code> is its reason", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string, number]> = [
        ["2", "NotOnPhone", 2],
        ["3", "DecryptionError", 3],
        ["1", "GeneralError", 1],
        ["500", "GeneralError", 500],
        ["oops", "GeneralError", 0]
      ]
      for (const [code, reason, number] of cases) {
        const error = yield* reasonOf(errorNotification(code))
        assert.strictEqual(error.reason, reason)
        assert.strictEqual(error.code, number)
        assert.match(error.message, new RegExp(`^media re-upload failed \\(${reason}\\)`))
      }
    }))

  it.effect("a success for another message, or without a usable path, is BadInput", () =>
    Effect.gen(function*() {
      // Sealed for this id, but naming another stanza.
      const other = yield* reasonOf(sealedNotification({ stanzaId: "OTHER", directPath: "/v/x", result: 1 }))
      assert.strictEqual(other.reason, "BadInput")
      const noPath = yield* reasonOf(sealedNotification({ stanzaId: messageId, result: 1 }))
      assert.strictEqual(noPath.reason, "BadInput")
      const notAPath = yield* reasonOf(
        sealedNotification({ stanzaId: messageId, directPath: "@evil.example/x", result: 1 })
      )
      assert.strictEqual(notAPath.reason, "BadInput")
    }))

  it("parseNotification rejects other nodes and incomplete notifications with BadInput", () => {
    const bad: ReadonlyArray<unknown> = [
      null,
      "notification",
      { tag: "receipt", attrs: { type: "mediaretry", id: messageId } },
      { tag: "notification", attrs: { type: "w:gp2", id: messageId } },
      { tag: "notification", attrs: { type: "mediaretry" } },
      { tag: "notification", attrs: { type: "mediaretry", id: messageId } },
      { tag: "notification", attrs: { type: "mediaretry", id: messageId }, content: [{ tag: "encrypt", attrs: {} }] },
      {
        tag: "notification",
        attrs: { type: "mediaretry", id: messageId },
        content: [{ tag: "encrypt", attrs: {}, content: [{ tag: "enc_p", attrs: {}, content: "text" }] }]
      }
    ]
    for (const node of bad) {
      const result = MediaRetry.parseNotification(node)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "BadInput")
    }
  })

  it.effect("a flipped bit in a notification node is a typed error", () =>
    Effect.gen(function*() {
      const node = sealedNotification({ stanzaId: messageId, directPath: "/v/t62.7118-24/fresh.enc", result: 1 })
      const encP = (node.content[0]!.content as ReadonlyArray<{ content: Uint8Array }>)[0]!.content
      encP[3]! ^= 0x10
      const error = yield* reasonOf(node)
      assert.strictEqual(error.reason, "BadInput")
      assert.match(error.message, /does not authenticate/)
      assert.notInclude(error.message, toHex(mediaKey))
    }))
})

// -----------------------------------------------------------------------------
// service
// -----------------------------------------------------------------------------

const phoneWorld = (options: FakePhone.Options & MediaRetry.Options = {}) =>
  FakePhone.layer(options).pipe(
    Layer.provideMerge(FakeCdn.layerWithMediaConn()),
    Layer.provideMerge(MediaCrypto.layerTest())
  )

const requestOf = (sent: FakePhone.ReceivedMessage) =>
  Effect.map(MediaMessage.downloadable(sent), (media): MediaRetry.Request => ({
    key: sent.key,
    mediaKey: media.mediaKey!,
    message: sent.message
  }))

const retryError = <A, E>(exit: Exit.Exit<A, E>): MediaRetryError => {
  const error = failureOf(exit)
  assert.instanceOf(error, MediaRetryError)
  return error as MediaRetryError
}

describe("MediaRetry service over socket primitives", () => {
  it.effect("asks the phone and hands over the fresh directPath of its re-upload", () =>
    Effect.gen(function*() {
      const phone = yield* FakePhone.FakePhone
      const cdn = yield* FakeCdn.FakeCdn
      const retry = yield* MediaRetry.MediaRetry
      const sent = yield* phone.sendMedia(new TextEncoder().encode("a photo"), { type: "image" })
      const before = (yield* MediaMessage.downloadable(sent)).directPath
      yield* cdn.expireLinks
      const reupload = yield* retry.reupload(yield* requestOf(sent))
      assert.strictEqual(reupload.messageId, sent.key.id)
      assert.notStrictEqual(reupload.directPath, before)
      const requests = yield* phone.requests
      assert.strictEqual(requests.length, 1)
      assert.strictEqual(requests[0]!.node.attrs.to, phone.socket.ownJid)
      assert.deepStrictEqual(requests[0]!.node.content?.[1], {
        tag: "rmr",
        attrs: { jid: phone.jid, from_me: "false" }
      } as never)
    }).pipe(Effect.provide(phoneWorld())))

  it.effect("every answer of the phone is its reason", () =>
    Effect.gen(function*() {
      const phone = yield* FakePhone.FakePhone
      const retry = yield* MediaRetry.MediaRetry
      const sent = yield* phone.sendMedia(new Uint8Array(100), { type: "document" })
      const request = yield* requestOf(sent)
      const cases: ReadonlyArray<readonly [FakePhone.Answer, string, number]> = [
        ["NotOnPhone", "NotOnPhone", 2],
        ["DecryptionError", "DecryptionError", 3],
        ["GeneralError", "GeneralError", 0]
      ]
      for (const [answer, reason, code] of cases) {
        yield* phone.answerWith(answer)
        const error = retryError(yield* Effect.exit(retry.reupload(request)))
        assert.strictEqual(error.reason, reason)
        assert.strictEqual(error.code, code)
        assert.strictEqual(error.messageId, sent.key.id)
      }
      // A request sealed under another key does not open at the phone: it answers result 3.
      yield* phone.answerWith("Reupload")
      const wrongKey = retryError(yield* Effect.exit(retry.reupload({ ...request, mediaKey: new Uint8Array(32) })))
      assert.strictEqual(wrongKey.reason, "DecryptionError")
      // A message the phone never sent is not on it.
      const unknown = retryError(yield* Effect.exit(retry.reupload({ ...request, key: { ...sent.key, id: "NOPE" } })))
      assert.strictEqual(unknown.reason, "NotOnPhone")
    }).pipe(Effect.provide(phoneWorld())))

  it.effect("a silent phone is a Timeout after 30 seconds of Effect's Clock", () =>
    Effect.gen(function*() {
      const phone = yield* FakePhone.FakePhone
      const retry = yield* MediaRetry.MediaRetry
      const sent = yield* phone.sendMedia(new Uint8Array(10), { type: "audio" })
      const fiber = yield* Effect.fork(retry.reupload(yield* requestOf(sent)))
      yield* TestClock.adjust("29999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const error = retryError(yield* Fiber.await(fiber))
      assert.strictEqual(error.reason, "Timeout")
      assert.match(error.message, /Timeout.*30s/)
    }).pipe(Effect.provide(phoneWorld({ answer: "Silence" }))))

  it.effect("the timeout is an option", () =>
    Effect.gen(function*() {
      const phone = yield* FakePhone.FakePhone
      const retry = yield* MediaRetry.MediaRetry
      const sent = yield* phone.sendMedia(new Uint8Array(10), { type: "video" })
      const fiber = yield* Effect.fork(retry.reupload(yield* requestOf(sent)))
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(retryError(yield* Fiber.await(fiber)).reason, "Timeout")
    }).pipe(Effect.provide(phoneWorld({ answer: "Silence", timeout: "5 seconds" }))))

  // A socket whose answers come through a callback, synchronously from within `sendNode`.
  const callbackSocket = (answer: (node: MediaConn.BinaryNode) => ReadonlyArray<unknown>) => {
    const listeners = new Set<(node: unknown) => void>()
    const socket: MediaRetry.Socket = {
      ownJid: "me@s.whatsapp.net",
      sendNode: (node) =>
        Effect.sync(() => {
          for (const reply of answer(node)) for (const listener of listeners) listener(reply)
        }),
      notifications: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      }
    }
    return { socket, listeners }
  }

  it.scoped("a callback subscription works, other nodes and other ids are ignored, and it unsubscribes", () =>
    Effect.gen(function*() {
      const { listeners, socket } = callbackSocket(() => [
        { tag: "message", attrs: { id: messageId } },
        {
          tag: "notification",
          attrs: { id: "OTHER", type: "mediaretry" },
          content: [{ tag: "error", attrs: { code: "2" } }]
        },
        sealedNotification({ stanzaId: messageId, directPath: "/v/t62.7118-24/fresh.enc", result: 1 })
      ])
      const scope = yield* Scope.make()
      const retry = yield* MediaRetry.make(socket).pipe(Scope.extend(scope))
      assert.strictEqual(listeners.size, 1)
      const reupload = yield* retry.reupload({ key, mediaKey })
      assert.strictEqual(reupload.directPath, "/v/t62.7118-24/fresh.enc")
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(listeners.size, 0)
    }))

  it.scoped("a socket that cannot send is SendFailed; a bad key is BadInput or InvalidMediaKey, before sending", () =>
    Effect.gen(function*() {
      let sent = 0
      const retry = yield* MediaRetry.make({
        ownJid: "me@s.whatsapp.net",
        sendNode: () => Effect.suspend(() => (sent++, Effect.fail(new Error("socket closed")))),
        notifications: Stream.never
      })
      const error = retryError(yield* Effect.exit(retry.reupload({ key, mediaKey })))
      assert.strictEqual(error.reason, "SendFailed")
      assert.match(error.message, /socket closed/)
      assert.strictEqual(retryError(yield* Effect.exit(retry.reupload({ key: {}, mediaKey }))).reason, "BadInput")
      const short = failureOf(yield* Effect.exit(retry.reupload({ key, mediaKey: new Uint8Array(3) })))
      assert.strictEqual(short._tag, "InvalidMediaKey")
      assert.strictEqual(sent, 1)
    }))

  it.scoped("a malformed notification for the message fails its request with BadInput", () =>
    Effect.gen(function*() {
      const { socket } = callbackSocket(() => [{ tag: "notification", attrs: { id: messageId, type: "mediaretry" } }])
      const retry = yield* MediaRetry.make(socket)
      assert.strictEqual(retryError(yield* Effect.exit(retry.reupload({ key, mediaKey }))).reason, "BadInput")
    }))
})

describe("MediaRetry over a Baileys socket", () => {
  const message = {
    imageMessage: {
      url: "https://mmg.whatsapp.net/v/old.enc",
      directPath: "/v/old.enc",
      mediaKey,
      fileEncSha256: new Uint8Array(32).fill(1),
      fileSha256: new Uint8Array(32).fill(2),
      fileLength: 5
    }
  }

  // What Baileys' updateMediaMessage does to the message it is given, then resolves with it.
  const updating = (directPath: string) => ({
    calls: [] as Array<unknown>,
    updateMediaMessage(this: { calls: Array<unknown> }, info: { key: unknown; message?: unknown }) {
      this.calls.push(info)
      const content = (info.message as typeof message).imageMessage
      content.directPath = directPath
      content.url = `https://mmg.whatsapp.net${directPath}`
      return Promise.resolve(info)
    }
  })

  it.effect("updateMediaMessage gives the fresh directPath, and the caller's message is left alone", () =>
    Effect.gen(function*() {
      const sock = updating("/v/fresh.enc")
      const retry = MediaRetry.fromBaileys(sock)
      const reupload = yield* retry.reupload({ key, mediaKey, message })
      assert.deepStrictEqual(reupload, { messageId, directPath: "/v/fresh.enc" })
      assert.strictEqual(message.imageMessage.directPath, "/v/old.enc")
      assert.strictEqual(sock.calls.length, 1)
      assert.deepStrictEqual((sock.calls[0] as { key: unknown }).key, key)
    }))

  it.effect("Boom statuses are reasons, a missing message is BadInput, a hanging promise times out", () =>
    Effect.gen(function*() {
      const rejecting = (statusCode: number) =>
        MediaRetry.fromBaileys({
          updateMediaMessage: () =>
            Promise.reject(Object.assign(new Error(`Media re-upload failed by device`), { output: { statusCode } }))
        })
      const cases: ReadonlyArray<readonly [number, string]> = [
        [404, "NotOnPhone"],
        [412, "DecryptionError"],
        [418, "GeneralError"],
        [500, "GeneralError"]
      ]
      for (const [status, reason] of cases) {
        const error = retryError(yield* Effect.exit(rejecting(status).reupload({ key, mediaKey, message })))
        assert.strictEqual(error.reason, reason)
        assert.match(error.message, /re-upload failed by device/)
      }
      const sock = updating("/v/fresh.enc")
      const missing = retryError(yield* Effect.exit(MediaRetry.fromBaileys(sock).reupload({ key, mediaKey })))
      assert.strictEqual(missing.reason, "BadInput")
      assert.strictEqual(sock.calls.length, 0)
      const hanging = MediaRetry.fromBaileys({ updateMediaMessage: () => new Promise(() => {}) })
      const fiber = yield* Effect.fork(hanging.reupload({ key, mediaKey, message }))
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(retryError(yield* Fiber.await(fiber)).reason, "Timeout")
    }))
})

describe("MediaConn over a Baileys socket", () => {
  it.scoped("refreshMediaConn feeds the cached service; failures are typed", () =>
    Effect.gen(function*() {
      let calls = 0
      const conn = yield* MediaConn.make(MediaConn.fromBaileys({
        refreshMediaConn: (force) => {
          calls++
          assert.strictEqual(force, true)
          return Promise.resolve({
            auth: "secret-token",
            ttl: 300,
            hosts: [{ hostname: "mmg.whatsapp.net", maxContentLengthBytes: 1 }, { hostname: "bad/host" }],
            fetchDate: new Date(0)
          })
        }
      }))
      const info = yield* conn.get
      assert.deepStrictEqual(MediaConn.hostOrder(info), ["mmg.whatsapp.net"])
      assert.strictEqual(Redacted.value(info.auth), "secret-token")
      yield* conn.get
      assert.strictEqual(calls, 1)
      const failing = yield* Effect.exit(
        MediaConn.fromBaileys({ refreshMediaConn: () => Promise.reject(new Error("Connection Closed")) })
      )
      const error = failureOf(failing)
      assert.strictEqual(error.reason, "SourceFailed")
      assert.match(error.message, /Connection Closed/)
      const garbage = failureOf(
        yield* Effect.exit(MediaConn.fromBaileys({ refreshMediaConn: () => Promise.resolve(null as never) }))
      )
      assert.strictEqual(garbage.reason, "Malformed")
    }))
})
