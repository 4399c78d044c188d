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
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/mediaRetry.js"
import * as service from "./internal/mediaRetryService.js"
import type { BinaryNode } from "./MediaConn.js"
import type { InvalidMediaKey, MediaRetryError } from "./MediaError.js"
import type { MediaKey } from "./MediaKeys.js"
import type { MessageKey } from "./MediaMessage.js"

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
export interface Notification {
  readonly messageId: string
  readonly key: MessageKey
  readonly answer:
    | { readonly _tag: "Encrypted"; readonly ciphertext: Uint8Array; readonly iv: Uint8Array }
    | { readonly _tag: "Error"; readonly code: number }
}

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
export const encryptRequest: (options: {
  readonly mediaKey: MediaKey | Uint8Array
  readonly messageId: string
  readonly iv?: Uint8Array | undefined
}) => Effect.Effect<SealedRequest, InvalidMediaKey> = internal.encryptRequest

/**
 * Opens a sealed `MediaRetryNotification`. A wrong key, IV or message id, a changed bit or a
 * payload that is not the protobuf fail with `MediaRetryError` `BadInput`; a media key that is not
 * 32 bytes with `InvalidMediaKey`. The `result` is handed over as is (see {@link openNotification}
 * for its meaning).
 *
 * @since 0.1.0
 * @category payloads
 */
export const decryptNotification: (options: {
  readonly mediaKey: MediaKey | Uint8Array
  readonly messageId: string
  readonly ciphertext: Uint8Array
  readonly iv: Uint8Array
}) => Effect.Effect<NotificationPayload, MediaRetryError | InvalidMediaKey> = internal.decryptNotification

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
export const requestNode: (options: {
  readonly key: MessageKey
  readonly ownJid: string
  readonly mediaKey: MediaKey | Uint8Array
  readonly iv?: Uint8Array | undefined
}) => Effect.Effect<BinaryNode, MediaRetryError | InvalidMediaKey> = internal.requestNode

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
export const openNotification: (
  notification: Notification,
  mediaKey: MediaKey | Uint8Array
) => Effect.Effect<Reupload, MediaRetryError | InvalidMediaKey> = internal.openNotification

// -----------------------------------------------------------------------------
// service
// -----------------------------------------------------------------------------

/**
 * What to ask a re-upload for: the message `key` (`id` and `remoteJid` required), the media key
 * of its media, and the message itself (`WAProto.Message`) for adapters that hand a whole message
 * to their socket (Baileys' `updateMediaMessage`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly key: MessageKey
  readonly mediaKey: MediaKey | Uint8Array
  readonly message?: unknown
}

/**
 * The re-upload service: `reupload` asks the sender's phone to upload the media of a message again
 * and waits for its answer, for at most the layer's timeout (30 seconds by default, on Effect's
 * `Clock`). Downloads use it by themselves when it is provided (see `MediaDownload`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaRetry } from "effect-wa-media"
 *
 * declare const request: MediaRetry.Request
 * const program = Effect.gen(function*() {
 *   const retry = yield* MediaRetry.MediaRetry
 *   const { directPath } = yield* retry.reupload(request)
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class MediaRetry extends Context.Tag("effect-wa-media/MediaRetry")<MediaRetry, {
  readonly reupload: (request: Request) => Effect.Effect<Reupload, MediaRetryError | InvalidMediaKey>
}>() {}

/**
 * Options of the layers. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long to wait for the phone's answer. Default: 30 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * The socket primitives {@link make} works over: the bot's own JID (the receipt's `to`), a way to
 * send a node, and the incoming nodes, as a `Stream` or as a callback subscription returning its
 * unsubscribe function. Nodes that are not media retry notifications are ignored.
 *
 * @since 0.1.0
 * @category models
 */
export interface Socket {
  readonly ownJid: string
  readonly sendNode: (node: BinaryNode) => Effect.Effect<unknown, unknown>
  readonly notifications:
    | Stream.Stream<unknown, unknown>
    | ((listener: (node: unknown) => void) => () => void)
}

/**
 * Builds the service over socket primitives. A callback subscription is made at once, a stream is
 * read by one fiber of the scope (a stream that drops what arrives before it is read, such as a
 * `PubSub`'s, may miss answers sent before that fiber started); each notification goes to the
 * requests waiting for its message id, and a request starts waiting before it sends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (socket: Socket, options?: Options) => Effect.Effect<MediaRetry["Type"], never, Scope.Scope> =
  service.make

/**
 * The service over socket primitives, as a layer.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { MediaRetry } from "effect-wa-media"
 *
 * // Your socket: how it sends a node and hands over the nodes it receives.
 * declare const send: (node: unknown) => Promise<void>
 * declare const onNode: (listener: (node: unknown) => void) => () => void
 *
 * const RetryLive = MediaRetry.layer({
 *   ownJid: "5678@s.whatsapp.net",
 *   sendNode: (node) => Effect.tryPromise(() => send(node)),
 *   notifications: onNode
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (socket: Socket, options?: Options): Layer.Layer<MediaRetry> =>
  Layer.scoped(MediaRetry, make(socket, options))

/**
 * The part of a Baileys socket the adapter uses, typed structurally (no dependency on Baileys):
 * `updateMediaMessage` sends the request, waits for the notification, decrypts it and returns the
 * message with its `directPath` updated, or rejects with a `Boom` whose status says why
 * (404 not on the phone, 412 decryption error, 418 general error).
 *
 * @since 0.1.0
 * @category baileys
 */
export interface BaileysSocket {
  updateMediaMessage(message: { readonly key: MessageKey; readonly message?: unknown }): Promise<unknown>
}

/**
 * The service over a Baileys socket's `updateMediaMessage`, with the timeout Baileys does not
 * have. The request's `message` is required; Baileys works on a copy of it, so the caller's
 * object is left as it was (the updated message is reported by the download).
 *
 * @since 0.1.0
 * @category baileys
 */
export const fromBaileys: (socket: BaileysSocket, options?: Options) => MediaRetry["Type"] = service.fromBaileys

/**
 * {@link fromBaileys} as a layer.
 *
 * @example
 * ```ts
 * import { MediaRetry } from "effect-wa-media"
 *
 * declare const sock: MediaRetry.BaileysSocket // makeWASocket(…)
 * const RetryLive = MediaRetry.layerBaileys(sock)
 * ```
 *
 * @since 0.1.0
 * @category baileys
 */
export const layerBaileys = (socket: BaileysSocket, options?: Options): Layer.Layer<MediaRetry> =>
  Layer.succeed(MediaRetry, fromBaileys(socket, options))
