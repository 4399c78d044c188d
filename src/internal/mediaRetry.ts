/**
 * docs/protocol.md section 9 on the wire: the two protobuf messages, AES-256-GCM under the retry key,
 * and the `<receipt type="server-error">` / `<notification type="mediaretry">` nodes.
 *
 * @internal
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import type { BinaryNode } from "../MediaConn.js"
import { MediaCrypto } from "../MediaCrypto.js"
import { InvalidMediaKey, MediaRetryError } from "../MediaError.js"
import type { MediaKey } from "../MediaKeys.js"
import { hkdf, MEDIA_KEY_LENGTH } from "../MediaKeys.js"
import type { MessageKey } from "../MediaMessage.js"
import type { Notification, NotificationPayload, Reupload, SealedRequest } from "../MediaRetry.js"
import { attrOf, bytesOf, childOf, isNode } from "./binaryNode.js"

/** @internal */
export const RETRY_KEY_INFO = "WhatsApp Media Retry Notification"
/** @internal */
export const IV_LENGTH = 12
/** @internal */
export const TAG_LENGTH = 16

/** `MediaRetryNotification.ResultType`. @internal */
export const Result = { GeneralError: 0, Success: 1, NotFound: 2, DecryptionError: 3 } as const

/** The bytes of a media key, checked to be 32 bytes long. @internal */
export const keyBytes = (mediaKey: MediaKey | Uint8Array): Either.Either<Uint8Array, InvalidMediaKey> => {
  const bytes = Redacted.isRedacted(mediaKey) ? Redacted.value(mediaKey) : mediaKey
  return bytes.length === MEDIA_KEY_LENGTH
    ? Either.right(bytes)
    : Either.left(new InvalidMediaKey({ length: bytes.length }))
}

/** HKDF-SHA256(mediaKey, no salt, "WhatsApp Media Retry Notification", 32). @internal */
export const retryKey = (mediaKey: Uint8Array): Uint8Array => hkdf(mediaKey, RETRY_KEY_INFO, 32)

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

// -----------------------------------------------------------------------------
// protobuf
// -----------------------------------------------------------------------------

/** `ServerErrorReceipt { string stanzaId = 1 }`. @internal */
export const encodeServerErrorReceipt = (stanzaId: string): Uint8Array =>
  new BinaryWriter().tag(1, WireType.LengthDelimited).string(stanzaId).finish()

/** `MediaRetryNotification { string stanzaId = 1; string directPath = 2; int32 result = 3 }`. @internal */
export const encodeNotification = (notification: NotificationPayload): Uint8Array => {
  const writer = new BinaryWriter().tag(1, WireType.LengthDelimited).string(notification.stanzaId)
  if (notification.directPath !== undefined) writer.tag(2, WireType.LengthDelimited).string(notification.directPath)
  return writer.tag(3, WireType.Varint).int32(notification.result).finish()
}

/** Unknown fields are skipped, as protobuf readers do; a truncated or malformed message is `Left`. @internal */
export const decodeNotification = (bytes: Uint8Array): Either.Either<NotificationPayload, string> => {
  try {
    const reader = new BinaryReader(bytes, (b) => strictUtf8.decode(b))
    let stanzaId = ""
    let directPath: string | undefined
    let result = 0
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag()
      if (field === 1 && wireType === WireType.LengthDelimited) stanzaId = reader.string()
      else if (field === 2 && wireType === WireType.LengthDelimited) directPath = reader.string()
      else if (field === 3 && wireType === WireType.Varint) result = reader.int32()
      else reader.skip(wireType, field)
    }
    return Either.right({ stanzaId, ...(directPath === undefined || directPath === "" ? {} : { directPath }), result })
  } catch (error) {
    return Either.left(`not a MediaRetryNotification (${error instanceof Error ? error.message : "unreadable"})`)
  }
}

// -----------------------------------------------------------------------------
// AES-256-GCM under the retry key, AAD = message id
// -----------------------------------------------------------------------------

/** Ciphertext with the 16-byte tag appended. @internal */
export const seal = (mediaKey: Uint8Array, messageId: string, iv: Uint8Array, plaintext: Uint8Array): Uint8Array => {
  const cipher = createCipheriv("aes-256-gcm", retryKey(mediaKey), iv, { authTagLength: TAG_LENGTH })
  cipher.setAAD(utf8.encode(messageId))
  const head = cipher.update(plaintext)
  const tail = cipher.final()
  const out = new Uint8Array(head.length + tail.length + TAG_LENGTH)
  out.set(head, 0)
  out.set(tail, head.length)
  out.set(cipher.getAuthTag(), head.length + tail.length)
  return out
}

/** The plaintext, or `undefined` when the tag does not verify (wrong key, IV, id, or a changed bit). @internal */
export const open = (
  mediaKey: Uint8Array,
  messageId: string,
  iv: Uint8Array,
  sealed: Uint8Array
): Uint8Array | undefined => {
  if (iv.length !== IV_LENGTH || sealed.length < TAG_LENGTH) return undefined
  const decipher = createDecipheriv("aes-256-gcm", retryKey(mediaKey), iv, { authTagLength: TAG_LENGTH })
  decipher.setAAD(utf8.encode(messageId))
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH))
  const head = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH))
  try {
    const tail = decipher.final()
    const out = new Uint8Array(head.length + tail.length)
    out.set(head, 0)
    out.set(tail, head.length)
    return out
  } catch {
    return undefined
  }
}

// -----------------------------------------------------------------------------
// nodes
// -----------------------------------------------------------------------------

const badInput = (detail: string, messageId?: string) =>
  new MediaRetryError({ reason: "BadInput", detail, ...(messageId === undefined ? {} : { messageId }) })

/** The message id of a key, or a `BadInput` error. @internal */
export const messageIdOf = (key: MessageKey): Either.Either<string, MediaRetryError> =>
  typeof key.id === "string" && key.id !== ""
    ? Either.right(key.id)
    : Either.left(badInput("the message key has no id"))

/** The `<receipt type="server-error">` node around a sealed request for message `id` of `key`. @internal */
export const receiptNode = (
  key: MessageKey,
  id: string,
  ownJid: string,
  sealed: { readonly ciphertext: Uint8Array; readonly iv: Uint8Array }
): Either.Either<BinaryNode, MediaRetryError> => {
  if (typeof key.remoteJid !== "string" || key.remoteJid === "") {
    return Either.left(badInput("the message key has no remoteJid", id))
  }
  if (ownJid === "") return Either.left(badInput("the own JID is empty", id))
  const rmr: Record<string, string> = { jid: key.remoteJid, from_me: key.fromMe === true ? "true" : "false" }
  if (typeof key.participant === "string" && key.participant !== "") rmr.participant = key.participant
  return Either.right({
    tag: "receipt",
    attrs: { id, to: ownJid, type: "server-error" },
    content: [
      {
        tag: "encrypt",
        attrs: {},
        content: [
          { tag: "enc_p", attrs: {}, content: sealed.ciphertext },
          { tag: "enc_iv", attrs: {}, content: sealed.iv }
        ]
      },
      { tag: "rmr", attrs: rmr }
    ]
  })
}

/** Whether a node is a media retry notification (of any content). @internal */
export const isRetryNotification = (node: unknown): node is BinaryNode =>
  isNode(node) && node.tag === "notification" && attrOf(node, "type") === "mediaretry"

const errorCode = /^-?\d{1,9}$/

/** @internal */
export const parseNotification = (node: unknown): Either.Either<Notification, MediaRetryError> => {
  if (!isRetryNotification(node)) return Either.left(badInput("not a <notification type=\"mediaretry\"> node"))
  const messageId = attrOf(node, "id")
  if (messageId === undefined || messageId === "") return Either.left(badInput("the notification has no id"))
  const rmr = childOf(node, "rmr")
  const key: MessageKey = {
    id: messageId,
    ...(rmr === undefined ? {} : {
      remoteJid: attrOf(rmr, "jid"),
      fromMe: attrOf(rmr, "from_me") === "true",
      participant: attrOf(rmr, "participant")
    })
  }
  const error = childOf(node, "error")
  if (error !== undefined) {
    const code = attrOf(error, "code")
    // An error without a readable code is still an error from the phone: a general one.
    const number = code !== undefined && errorCode.test(code) ? Number(code) : Result.GeneralError
    return Either.right({ messageId, key, answer: { _tag: "Error", code: number } })
  }
  const encrypt = childOf(node, "encrypt")
  const encP = encrypt === undefined ? undefined : childOf(encrypt, "enc_p")
  const encIv = encrypt === undefined ? undefined : childOf(encrypt, "enc_iv")
  const ciphertext = encP === undefined ? undefined : bytesOf(encP)
  const iv = encIv === undefined ? undefined : bytesOf(encIv)
  if (ciphertext === undefined || iv === undefined) {
    return Either.left(
      badInput("the notification holds neither <error> nor <encrypt> with enc_p and enc_iv", messageId)
    )
  }
  return Either.right({ messageId, key, answer: { _tag: "Encrypted", ciphertext, iv } })
}

/** The error of a phone's error code or non-success result. @internal */
export const failureOf = (code: number, messageId: string): MediaRetryError =>
  new MediaRetryError({
    reason: code === Result.NotFound
      ? "NotOnPhone"
      : code === Result.DecryptionError
      ? "DecryptionError"
      : "GeneralError",
    code,
    messageId
  })

// -----------------------------------------------------------------------------
// the exchange
// -----------------------------------------------------------------------------

// The IV comes from the MediaCrypto service when there is one (so its test layer is deterministic),
// from node:crypto otherwise.
const randomIv: Effect.Effect<Uint8Array> = Effect.flatMap(
  Effect.serviceOption(MediaCrypto),
  Option.match({
    onNone: () => Effect.sync(() => new Uint8Array(randomBytes(IV_LENGTH))),
    onSome: (crypto) => crypto.randomBytes(IV_LENGTH)
  })
)

/** @internal */
export const encryptRequest = (options: {
  readonly mediaKey: MediaKey | Uint8Array
  readonly messageId: string
  readonly iv?: Uint8Array | undefined
}): Effect.Effect<SealedRequest, InvalidMediaKey> =>
  Effect.gen(function*() {
    const key = yield* keyBytes(options.mediaKey)
    if (options.iv !== undefined && options.iv.length !== IV_LENGTH) {
      return yield* Effect.dieMessage(
        `MediaRetry.encryptRequest: the IV must be ${IV_LENGTH} bytes, got ${options.iv.length}`
      )
    }
    const iv = options.iv ?? (yield* randomIv)
    const ciphertext = seal(key, options.messageId, iv, encodeServerErrorReceipt(options.messageId))
    return { ciphertext, iv }
  })

/** @internal */
export const decryptNotification = (options: {
  readonly mediaKey: MediaKey | Uint8Array
  readonly messageId: string
  readonly ciphertext: Uint8Array
  readonly iv: Uint8Array
}): Effect.Effect<NotificationPayload, MediaRetryError | InvalidMediaKey> =>
  Effect.gen(function*() {
    const key = yield* keyBytes(options.mediaKey)
    const plaintext = open(key, options.messageId, options.iv, options.ciphertext)
    if (plaintext === undefined) {
      return yield* badInput(
        "the notification does not authenticate (wrong key, IV or message id, or altered)",
        options.messageId
      )
    }
    return yield* Either.mapLeft(decodeNotification(plaintext), (detail) => badInput(detail, options.messageId))
  })

/** @internal */
export const requestNode = (options: {
  readonly key: MessageKey
  readonly ownJid: string
  readonly mediaKey: MediaKey | Uint8Array
  readonly iv?: Uint8Array | undefined
}): Effect.Effect<BinaryNode, MediaRetryError | InvalidMediaKey> =>
  Effect.flatMap(messageIdOf(options.key), (messageId) =>
    Effect.flatMap(
      encryptRequest({ mediaKey: options.mediaKey, messageId, iv: options.iv }),
      (sealed) => receiptNode(options.key, messageId, options.ownJid, sealed)
    ))

/** @internal */
export const openNotification = (
  notification: Notification,
  mediaKey: MediaKey | Uint8Array
): Effect.Effect<Reupload, MediaRetryError | InvalidMediaKey> =>
  Effect.gen(function*() {
    const { answer, messageId } = notification
    if (answer._tag === "Error") return yield* failureOf(answer.code, messageId)
    const payload = yield* decryptNotification({ mediaKey, messageId, ciphertext: answer.ciphertext, iv: answer.iv })
    if (payload.stanzaId !== messageId) return yield* badInput("the payload names another message", messageId)
    if (payload.result !== Result.Success) return yield* failureOf(payload.result, messageId)
    if (payload.directPath === undefined || !payload.directPath.startsWith("/")) {
      return yield* badInput("a success without a usable directPath", messageId)
    }
    return { messageId, directPath: payload.directPath }
  })
