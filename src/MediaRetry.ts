/**
 * docs/protocol.md section 9: asking the sender's phone to upload expired media again ("media retry").
 * The request is the protobuf `ServerErrorReceipt { stanzaId }` sealed with AES-256-GCM under the
 * retry key (HKDF of the media key) with the message id as AAD, sent in a
 * `<receipt type="server-error">` node; the phone answers with a `<notification type="mediaretry">`
 * holding an `<error code>` or the sealed `MediaRetryNotification { stanzaId, directPath, result }`.
 * After a success only the `directPath` changes: the media key, hashes and length stay valid.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import * as internal from "./internal/mediaRetry.js"
import type { BinaryNode } from "./MediaConn.js"
import { MediaCrypto } from "./MediaCrypto.js"
import type { InvalidMediaKey } from "./MediaError.js"
import { MediaRetryError } from "./MediaError.js"
import type { MediaKey } from "./MediaKeys.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * The `MediaRetryNotification.ResultType` numbers.
 *
 * @since 0.1.0
 * @category models
 */
export const ResultType: {
  readonly GeneralError: 0
  readonly Success: 1
  readonly NotFound: 2
  readonly DecryptionError: 3
} = internal.Result

/**
 * The `WAProto.MessageKey` of the message whose media expired, as protobuf.js or Baileys hand it
 * over (`null` reads as absent).
 *
 * @since 0.1.0
 * @category models
 */
export interface MessageKey extends internal.Key {}

/**
 * A sealed request: the ciphertext with its 16-byte GCM tag appended, and the 12-byte IV used.
 *
 * @since 0.1.0
 * @category models
 */
export interface SealedRequest {
  readonly ciphertext: Uint8Array
  readonly iv: Uint8Array
}

/**
 * The decrypted `MediaRetryNotification`: `result` is a {@link ResultType} number, `directPath`
 * the fresh path (set on success).
 *
 * @since 0.1.0
 * @category models
 */
export interface NotificationPayload {
  readonly stanzaId: string
  readonly directPath?: string
  readonly result: number
}

/**
 * A `<notification type="mediaretry">` as read off the wire, before decryption: the message id,
 * the message key its `<rmr>` names, and either the sealed payload or the phone's error code.
 *
 * @since 0.1.0
 * @category models
 */
export interface Notification extends internal.ParsedNotification {}

/**
 * A successful re-upload: the message id and the fresh `directPath`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reupload {
  readonly messageId: string
  readonly directPath: string
}

// -----------------------------------------------------------------------------
// payloads
// -----------------------------------------------------------------------------

// The IV comes from the MediaCrypto service when there is one (so its test layer is deterministic),
// from node:crypto otherwise.
const randomIv: Effect.Effect<Uint8Array> = Effect.flatMap(
  Effect.serviceOption(MediaCrypto),
  Option.match({
    onNone: () => Effect.sync(() => new Uint8Array(randomBytes(internal.IV_LENGTH))),
    onSome: (crypto) => crypto.randomBytes(internal.IV_LENGTH)
  })
)

/**
 * Seals the request payload: AES-256-GCM under the retry key of `mediaKey`, AAD the message id as
 * UTF-8, over the `ServerErrorReceipt { stanzaId = messageId }` protobuf, with a random 12-byte IV
 * unless one is given (an IV of another length is a defect). A media key that is not 32 bytes fails
 * with `InvalidMediaKey`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaRetry } from "effect-wa-media"
 *
 * declare const mediaKey: Uint8Array
 * const program = Effect.gen(function*() {
 *   const { ciphertext, iv } = yield* MediaRetry.encryptRequest({ mediaKey, messageId: "3EB0ABCDEF0123456789" })
 * })
 * ```
 *
 * @since 0.1.0
 * @category payloads
 */
export const encryptRequest = (options: {
  readonly mediaKey: MediaKey | Uint8Array
  readonly messageId: string
  readonly iv?: Uint8Array | undefined
}): Effect.Effect<SealedRequest, InvalidMediaKey> =>
  Effect.gen(function*() {
    const key = yield* internal.keyBytes(options.mediaKey)
    if (options.iv !== undefined && options.iv.length !== internal.IV_LENGTH) {
      return yield* Effect.dieMessage(
        `MediaRetry.encryptRequest: the IV must be ${internal.IV_LENGTH} bytes, got ${options.iv.length}`
      )
    }
    const iv = options.iv ?? (yield* randomIv)
    const ciphertext = internal.seal(key, options.messageId, iv, internal.encodeServerErrorReceipt(options.messageId))
    return { ciphertext, iv }
  })

/**
 * Opens a sealed `MediaRetryNotification`. A wrong key, IV or message id, a changed bit or a
 * payload that is not the protobuf fail with `MediaRetryError` `BadInput`; a media key that is not
 * 32 bytes with `InvalidMediaKey`. The `result` is handed over as is (see {@link openNotification}
 * for its meaning).
 *
 * @since 0.1.0
 * @category payloads
 */
export const decryptNotification = (options: {
  readonly mediaKey: MediaKey | Uint8Array
  readonly messageId: string
  readonly ciphertext: Uint8Array
  readonly iv: Uint8Array
}): Effect.Effect<NotificationPayload, MediaRetryError | InvalidMediaKey> =>
  Effect.gen(function*() {
    const key = yield* internal.keyBytes(options.mediaKey)
    const plaintext = internal.open(key, options.messageId, options.iv, options.ciphertext)
    if (plaintext === undefined) {
      return yield* new MediaRetryError({
        reason: "BadInput",
        messageId: options.messageId,
        detail: "the notification does not authenticate (wrong key, IV or message id, or altered)"
      })
    }
    return yield* Either.mapLeft(
      internal.decodeNotification(plaintext),
      (detail) => new MediaRetryError({ reason: "BadInput", messageId: options.messageId, detail })
    )
  })

// -----------------------------------------------------------------------------
// nodes
// -----------------------------------------------------------------------------

/**
 * Builds the request node
 * `<receipt type="server-error" id to><encrypt><enc_p/><enc_iv/></encrypt><rmr jid from_me participant?/></receipt>`
 * for the message `key` (its `id` and `remoteJid` are required), sent to `ownJid` (the bot's own
 * JID), sealed as {@link encryptRequest} does. A key without them fails with `MediaRetryError`
 * `BadInput`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaRetry } from "effect-wa-media"
 *
 * declare const mediaKey: Uint8Array
 * const node = MediaRetry.requestNode({
 *   key: { remoteJid: "1234@s.whatsapp.net", fromMe: false, id: "3EB0ABCDEF0123456789" },
 *   ownJid: "5678@s.whatsapp.net",
 *   mediaKey
 * })
 * ```
 *
 * @since 0.1.0
 * @category nodes
 */
export const requestNode = (options: {
  readonly key: MessageKey
  readonly ownJid: string
  readonly mediaKey: MediaKey | Uint8Array
  readonly iv?: Uint8Array | undefined
}): Effect.Effect<BinaryNode, MediaRetryError | InvalidMediaKey> =>
  Effect.flatMap(internal.messageIdOf(options.key), (messageId) =>
    Effect.flatMap(
      encryptRequest({ mediaKey: options.mediaKey, messageId, iv: options.iv }),
      (sealed) => internal.requestNode(options.key, options.ownJid, sealed)
    ))

/**
 * Whether a node is a `<notification type="mediaretry">`, to pick the answers out of a socket's
 * incoming nodes.
 *
 * @since 0.1.0
 * @category nodes
 */
export const isNotification: (node: unknown) => node is BinaryNode = internal.isRetryNotification

/**
 * Reads a `<notification type="mediaretry" id>` node: its `<rmr>` key and either its
 * `<error code>` or its `<encrypt>` with `enc_p` and `enc_iv`. Anything else fails with
 * `MediaRetryError` `BadInput`. The result is an `Either`, which can also be yielded as an `Effect`.
 *
 * @since 0.1.0
 * @category nodes
 */
export const parseNotification: (node: unknown) => Either.Either<Notification, MediaRetryError> =
  internal.parseNotification

/**
 * What a notification means for the media of `mediaKey`: the fresh `directPath` on success;
 * otherwise a `MediaRetryError` whose reason says why, for an `<error code>` as for a decrypted
 * `result` (2: `NotOnPhone`, 3: `DecryptionError`, any other: `GeneralError`, with the `code`).
 * A payload that does not open, names another message or reports success without a path (one
 * starting with `/`) is
 * `BadInput`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaRetry } from "effect-wa-media"
 *
 * declare const node: unknown
 * declare const mediaKey: Uint8Array
 * const program = Effect.gen(function*() {
 *   const notification = yield* MediaRetry.parseNotification(node)
 *   const { directPath } = yield* MediaRetry.openNotification(notification, mediaKey)
 * })
 * ```
 *
 * @since 0.1.0
 * @category nodes
 */
export const openNotification = (
  notification: Notification,
  mediaKey: MediaKey | Uint8Array
): Effect.Effect<Reupload, MediaRetryError | InvalidMediaKey> =>
  Effect.gen(function*() {
    const { answer, messageId } = notification
    if (answer._tag === "Error") return yield* internal.failureOf(answer.code, messageId)
    const payload = yield* decryptNotification({ mediaKey, messageId, ciphertext: answer.ciphertext, iv: answer.iv })
    if (payload.stanzaId !== messageId) {
      return yield* new MediaRetryError({ reason: "BadInput", messageId, detail: "the payload names another message" })
    }
    if (payload.result !== internal.Result.Success) return yield* internal.failureOf(payload.result, messageId)
    if (payload.directPath === undefined || !payload.directPath.startsWith("/")) {
      return yield* new MediaRetryError({
        reason: "BadInput",
        messageId,
        detail: "a success without a usable directPath"
      })
    }
    return { messageId, directPath: payload.directPath }
  })
