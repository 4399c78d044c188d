/**
 * docs/protocol.md section 8: reading what can be downloaded out of WhatsApp message objects (as
 * protobuf.js `WAProto` gives them, or after a JSON round trip), and building media messages from
 * upload results, forwarded media and albums. Pure code: nothing here touches the network.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as albums from "./internal/messageAlbum.js"
import * as build from "./internal/messageBuild.js"
import * as messageFields from "./internal/messageFields.js"
import * as forwarding from "./internal/messageForward.js"
import * as read from "./internal/messageRead.js"
import type { InvalidMediaKey, MediaMessageError, UnknownMediaType } from "./MediaError.js"
import type { MediaKey } from "./MediaKeys.js"
import type * as MediaType from "./MediaType.js"

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/**
 * Everything a download needs: where the blob lives (`directPath` on a media host, a full https
 * `url` to try first, or a channel's `staticUrl` used as is), how to decrypt it, and what to check.
 * A missing `mediaKey` means unencrypted media (channel/newsletter media, product catalog images):
 * the body is the plaintext and only `fileSha256` is checked. Missing hashes are not checked.
 *
 * @since 0.1.0
 * @category models
 */
export interface Downloadable {
  readonly mediaType: MediaType.MediaType
  readonly directPath?: string
  readonly url?: string
  readonly staticUrl?: string
  readonly mediaKey?: MediaKey
  readonly fileSha256?: Uint8Array
  readonly fileEncSha256?: Uint8Array
  readonly fileLength?: number
}

/**
 * The result of an upload (docs/protocol.md section 7). Every field maps one to one onto the message
 * field of the same name; the upload service returns a value assignable to this.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadedMedia {
  readonly mediaType: MediaType.MediaType
  readonly url: string
  readonly directPath: string
  readonly handle?: string | undefined
  readonly objectId?: string | undefined
  readonly mediaKey: MediaKey
  readonly fileSha256: Uint8Array
  readonly fileEncSha256: Uint8Array
  readonly fileLength: number
  /** Unix seconds. */
  readonly mediaKeyTimestamp: number
  readonly streamingSidecar?: Uint8Array | undefined
}

/**
 * The content of a message that holds something downloadable, by the `WAProto.Message` field that
 * holds it. `externalBlobReference` stands for an app-state `ExternalBlobReference` given on its
 * own, and `extendedTextMessage` is only reported when it carries a server-hosted link preview
 * thumbnail.
 *
 * @since 0.1.0
 * @category models
 */
export type MediaKind =
  | "imageMessage"
  | "videoMessage"
  | "ptvMessage"
  | "audioMessage"
  | "documentMessage"
  | "stickerMessage"
  | "stickerPackMessage"
  | "extendedTextMessage"
  | "historySyncNotification"
  | "externalBlobReference"

/**
 * The media type the content of a {@link MediaKind} downloads as (a link preview: `link-thumbnail`).
 *
 * @since 0.1.0
 * @category getters
 */
export const kindMediaType: (kind: MediaKind) => MediaType.MediaType = read.kindMediaType

// ---------------------------------------------------------------------------------------------
// Input shapes (messages as protobuf.js types them)
// ---------------------------------------------------------------------------------------------

/**
 * A protobuf.js `Long` (from the `long` package, with or without its methods, e.g. after a JSON
 * round trip).
 *
 * @since 0.1.0
 * @category input shapes
 */
export interface LongValue {
  readonly low: number
  readonly high: number
  readonly unsigned?: boolean | undefined
}

/**
 * A protobuf 64-bit integer field as it arrives: a number, a bigint, a protobuf.js `Long` or a
 * decimal string.
 *
 * @since 0.1.0
 * @category input shapes
 */
export type Int64Value = number | bigint | string | LongValue

/**
 * A protobuf bytes field as it arrives: a `Uint8Array` (or `Buffer`), an `ArrayBuffer`, standard or
 * url-safe base64, an array of byte values, or a JSON `Buffer` (`{ type: "Buffer", data }`).
 *
 * @since 0.1.0
 * @category input shapes
 */
export type BytesValue =
  | Uint8Array
  | ArrayBuffer
  | string
  | ReadonlyArray<number>
  | { readonly type: "Buffer"; readonly data: ReadonlyArray<number> | string }

/**
 * The content of a media message as protobuf.js types it (`proto.Message.IImageMessage`,
 * `IVideoMessage`, `IAudioMessage`, `IDocumentMessage`, `IStickerMessage`, `IStickerPackMessage`,
 * `IExtendedTextMessage`, `IHistorySyncNotification`, an app-state `IExternalBlobReference`):
 * every field optional and nullable, 64-bit integers as {@link Int64Value}, bytes as
 * {@link BytesValue}. The fields listed are the ones this library reads; any other field of the
 * generated interface may be present. The values are checked when read.
 *
 * @since 0.1.0
 * @category input shapes
 */
export interface MediaContentLike {
  readonly url?: string | null | undefined
  readonly directPath?: string | null | undefined
  readonly staticUrl?: string | null | undefined
  readonly mediaKey?: BytesValue | MediaKey | null | undefined
  readonly fileSha256?: BytesValue | null | undefined
  readonly fileEncSha256?: BytesValue | null | undefined
  readonly fileLength?: Int64Value | null | undefined
  /** The length field of an app-state `ExternalBlobReference`. */
  readonly fileSizeBytes?: Int64Value | null | undefined
  readonly mediaKeyTimestamp?: Int64Value | null | undefined
  readonly mimetype?: string | null | undefined
  readonly caption?: string | null | undefined
  readonly width?: number | null | undefined
  readonly height?: number | null | undefined
  readonly seconds?: number | null | undefined
  readonly gifPlayback?: boolean | null | undefined
  readonly ptt?: boolean | null | undefined
  readonly isAnimated?: boolean | null | undefined
  readonly fileName?: string | null | undefined
  readonly title?: string | null | undefined
  readonly pageCount?: number | null | undefined
  readonly jpegThumbnail?: BytesValue | null | undefined
  readonly pngThumbnail?: BytesValue | null | undefined
  readonly thumbnailDirectPath?: string | null | undefined
  readonly thumbnailSha256?: BytesValue | null | undefined
  readonly thumbnailEncSha256?: BytesValue | null | undefined
  readonly thumbnailHeight?: number | null | undefined
  readonly thumbnailWidth?: number | null | undefined
  readonly streamingSidecar?: BytesValue | null | undefined
  readonly waveform?: BytesValue | null | undefined
  readonly contextInfo?: object | null | undefined
}

/**
 * A `Message` as protobuf.js types it (`proto.IMessage`): the media contents this library reads,
 * and the wrappers it looks through (`viewOnceMessage*`, `ephemeralMessage`, `editedMessage`,
 * `documentWithCaptionMessage`, `associatedChildMessage`, `protocolMessage`, …). A message built by
 * this module is one too.
 *
 * @since 0.1.0
 * @category input shapes
 */
export interface MessageLike {
  readonly imageMessage?: MediaContentLike | null | undefined
  readonly videoMessage?: MediaContentLike | null | undefined
  readonly ptvMessage?: MediaContentLike | null | undefined
  readonly audioMessage?: MediaContentLike | null | undefined
  readonly documentMessage?: MediaContentLike | null | undefined
  readonly stickerMessage?: MediaContentLike | null | undefined
  readonly stickerPackMessage?: MediaContentLike | null | undefined
  readonly extendedTextMessage?: MediaContentLike | null | undefined
  readonly protocolMessage?: ProtocolMessageLike | null | undefined
  readonly documentWithCaptionMessage?: FutureProofMessageLike | null | undefined
  readonly viewOnceMessage?: FutureProofMessageLike | null | undefined
  readonly viewOnceMessageV2?: FutureProofMessageLike | null | undefined
  readonly viewOnceMessageV2Extension?: FutureProofMessageLike | null | undefined
  readonly ephemeralMessage?: FutureProofMessageLike | null | undefined
  readonly editedMessage?: FutureProofMessageLike | null | undefined
  readonly associatedChildMessage?: FutureProofMessageLike | null | undefined
  readonly lottieStickerMessage?: FutureProofMessageLike | null | undefined
  readonly groupMentionedMessage?: FutureProofMessageLike | null | undefined
  readonly botInvokeMessage?: FutureProofMessageLike | null | undefined
}

/**
 * A `ProtocolMessage` as protobuf.js types it (`proto.Message.IProtocolMessage`): the history sync
 * notification and the edited message it may carry.
 *
 * @since 0.1.0
 * @category input shapes
 */
export interface ProtocolMessageLike {
  readonly historySyncNotification?: MediaContentLike | null | undefined
  readonly editedMessage?: MessageLike | null | undefined
}

/**
 * A `FutureProofMessage` wrapper as protobuf.js types it (`proto.Message.IFutureProofMessage`).
 *
 * @since 0.1.0
 * @category input shapes
 */
export interface FutureProofMessageLike {
  readonly message?: MessageLike | null | undefined
}

/**
 * A `WebMessageInfo` as protobuf.js types it (`proto.IWebMessageInfo`, Baileys' `WAMessage`): the
 * message one level down.
 *
 * @since 0.1.0
 * @category input shapes
 */
export interface WebMessageInfoLike {
  readonly message?: MessageLike | null | undefined
}

/**
 * Anything a message reader takes, as protobuf.js types it: a `WebMessageInfo`, a `Message`
 * (`null` and `undefined` too, as `msg.message` may be: they read as `NoMedia`), or an inner media
 * message with its type given separately.
 *
 * @since 0.1.0
 * @category input shapes
 */
export type MessageInput = WebMessageInfoLike | MessageLike | MediaContentLike | null | undefined

// ---------------------------------------------------------------------------------------------
// Message shapes (protobuf.js camelCase, as sent)
// ---------------------------------------------------------------------------------------------

/**
 * The `WAProto.MessageKey` of a message.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface MessageKey {
  readonly remoteJid?: string | null | undefined
  readonly fromMe?: boolean | null | undefined
  readonly id?: string | null | undefined
  readonly participant?: string | null | undefined
}

/**
 * A `WAProto.ContextInfo` (quotes, mentions, forwarding marks), typed so that protobuf.js's
 * `proto.IContextInfo` fits: the common fields, each optional and nullable. It is passed through
 * as given; a value of the generated type may carry any other `ContextInfo` field.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface ContextInfo {
  readonly stanzaId?: string | null | undefined
  readonly participant?: string | null | undefined
  readonly remoteJid?: string | null | undefined
  readonly quotedMessage?: MessageLike | null | undefined
  readonly mentionedJid?: ReadonlyArray<string> | null | undefined
  readonly isForwarded?: boolean | null | undefined
  readonly forwardingScore?: number | null | undefined
  readonly expiration?: number | null | undefined
  readonly ephemeralSettingTimestamp?: Int64Value | null | undefined
  readonly placeholderKey?: MessageKey | null | undefined
  readonly externalAdReply?: object | null | undefined
}

/**
 * The fields every downloadable media message shares. In a built message `mediaKey` is the raw
 * key: the message object is what gets encrypted and sent, so the redaction of {@link MediaKey}
 * ends here. Do not log message objects.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface MediaFields {
  readonly url?: string
  readonly directPath?: string
  readonly staticUrl?: string
  readonly mediaKey?: Uint8Array
  readonly fileSha256?: Uint8Array
  readonly fileEncSha256?: Uint8Array
  readonly fileLength?: number
  /** Unix seconds. */
  readonly mediaKeyTimestamp?: number
  readonly mimetype?: string
  readonly contextInfo?: ContextInfo
}

/**
 * A server-hosted thumbnail, encrypted with the parent message's media key under the matching
 * `*-thumbnail` media type.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface ServerThumbnailFields {
  readonly thumbnailDirectPath?: string
  readonly thumbnailSha256?: Uint8Array
  readonly thumbnailEncSha256?: Uint8Array
}

/**
 * `WAProto.ImageMessage`.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface ImageMessage extends MediaFields, ServerThumbnailFields {
  readonly caption?: string
  readonly width?: number
  readonly height?: number
  readonly jpegThumbnail?: Uint8Array
}

/**
 * `WAProto.VideoMessage` (also the content of `ptvMessage`, a round video note).
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface VideoMessage extends MediaFields, ServerThumbnailFields {
  readonly caption?: string
  readonly width?: number
  readonly height?: number
  readonly seconds?: number
  readonly gifPlayback?: boolean
  readonly jpegThumbnail?: Uint8Array
  readonly streamingSidecar?: Uint8Array
}

/**
 * `WAProto.AudioMessage` (`ptt` marks a voice note).
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface AudioMessage extends MediaFields {
  readonly seconds?: number
  readonly ptt?: boolean
  readonly streamingSidecar?: Uint8Array
  readonly waveform?: Uint8Array
}

/**
 * `WAProto.DocumentMessage`.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface DocumentMessage extends MediaFields, ServerThumbnailFields {
  readonly caption?: string
  readonly fileName?: string
  readonly title?: string
  readonly pageCount?: number
  readonly jpegThumbnail?: Uint8Array
  readonly thumbnailHeight?: number
  readonly thumbnailWidth?: number
}

/**
 * `WAProto.StickerMessage` (an inline PNG thumbnail instead of a JPEG one).
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface StickerMessage extends MediaFields {
  readonly width?: number
  readonly height?: number
  readonly isAnimated?: boolean
  readonly pngThumbnail?: Uint8Array
}

/**
 * `WAProto.AlbumMessage`: the parent of an album, announcing how many children follow.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface AlbumMessage {
  readonly expectedImageCount: number
  readonly expectedVideoCount: number
}

/**
 * `WAProto.MessageAssociation`.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface MessageAssociation {
  readonly associationType: number
  readonly parentMessageKey: MessageKey
}

/**
 * `WAProto.MessageContextInfo`, which lives on the `Message` next to its content.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface MessageContextInfo {
  readonly messageAssociation?: MessageAssociation
  readonly [field: string]: unknown
}

/**
 * `WAProto.FutureProofMessage`: a message inside a wrapper (`associatedChildMessage`,
 * `viewOnceMessage`, `ephemeralMessage`, …).
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface FutureProofMessage<M = Message> {
  readonly message: M
}

/**
 * The fields of `WAProto.Message` this module builds.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface Message {
  readonly imageMessage?: ImageMessage
  readonly videoMessage?: VideoMessage
  readonly ptvMessage?: VideoMessage
  readonly audioMessage?: AudioMessage
  readonly documentMessage?: DocumentMessage
  readonly stickerMessage?: StickerMessage
  readonly albumMessage?: AlbumMessage
  readonly associatedChildMessage?: FutureProofMessage
  readonly messageContextInfo?: MessageContextInfo
}

/**
 * A wrapped image message.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface WrappedImage {
  readonly imageMessage: ImageMessage
}

/**
 * A wrapped video message.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface WrappedVideo {
  readonly videoMessage: VideoMessage
}

/**
 * A wrapped round video note.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface WrappedPtv {
  readonly ptvMessage: VideoMessage
}

/**
 * A wrapped audio message.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface WrappedAudio {
  readonly audioMessage: AudioMessage
}

/**
 * A wrapped document message.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface WrappedDocument {
  readonly documentMessage: DocumentMessage
}

/**
 * A wrapped sticker message.
 *
 * @since 0.1.0
 * @category message shapes
 */
export interface WrappedSticker {
  readonly stickerMessage: StickerMessage
}

/**
 * A `Message` holding one media message, as the builders return it and `forward` produces it.
 *
 * @since 0.1.0
 * @category message shapes
 */
export type MediaContentMessage =
  | WrappedImage
  | WrappedVideo
  | WrappedPtv
  | WrappedAudio
  | WrappedDocument
  | WrappedSticker

// ---------------------------------------------------------------------------------------------
// Value normalisation
// ---------------------------------------------------------------------------------------------

/**
 * Bytes in any form a message field arrives in (`Uint8Array`/`Buffer`, `ArrayBuffer`, standard or
 * url-safe base64 with or without padding, a JSON `Buffer` `{ type: "Buffer", data }` with an
 * array or base64 `data`, a JSON `Uint8Array` or an array of byte values) as a fresh `Uint8Array`;
 * `None` when the value is none of these.
 *
 * @since 0.1.0
 * @category normalisation
 */
export const bytes: (value: unknown) => Option.Option<Uint8Array> = Schema.decodeUnknownOption(messageFields.Bytes)

/**
 * A protobuf 64-bit integer (number, bigint, a protobuf.js `Long` with or without its methods, or
 * a decimal string) as a safe JavaScript integer; `None` when it is none of these or does not fit.
 *
 * @since 0.1.0
 * @category normalisation
 */
export const long: (value: unknown) => Option.Option<number> = Schema.decodeUnknownOption(messageFields.Int64)

// ---------------------------------------------------------------------------------------------
// Locating media inside messages
// ---------------------------------------------------------------------------------------------

/**
 * Which media a message holds, looking through every wrapper (`viewOnceMessage*`,
 * `ephemeralMessage`, `editedMessage`, `documentWithCaptionMessage`, `associatedChildMessage`,
 * `protocolMessage`, a `WebMessageInfo`'s `message`); `None` when it holds none.
 *
 * @example
 * ```ts
 * import { MediaMessage } from "effect-wa-media"
 *
 * MediaMessage.mediaKind({ viewOnceMessageV2: { message: { imageMessage: {} } } })
 * // Option.some("imageMessage")
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const mediaKind: (message: unknown) => Option.Option<MediaKind> = read.mediaKind

/**
 * A copy of a message whose media has a new `directPath` (after a re-upload, see `MediaRetry`),
 * through every wrapper; its `url`, which points at the old path, is dropped, and every other field
 * is kept. Only the objects on the way to the media are copied. `None` when it holds no media.
 *
 * @example
 * ```ts
 * import { MediaMessage } from "effect-wa-media"
 *
 * const updated = MediaMessage.withDirectPath(
 *   { key: { id: "3EB0" }, message: { imageMessage: { directPath: "/v/old.enc", url: "https://mmg.whatsapp.net/v/old.enc" } } },
 *   "/v/new.enc"
 * )
 * // Option.some({ key: { id: "3EB0" }, message: { imageMessage: { directPath: "/v/new.enc" } } })
 * ```
 *
 * @since 0.1.0
 * @category building
 */
export const withDirectPath: <M>(message: M, directPath: string) => Option.Option<M> = read.withDirectPath

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/**
 * Options of the readers.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReadOptions {
  /**
   * The media type (a library name or an alias) of an inner media message given without its
   * wrapper. With a wrapper it must agree with what the wrapper holds.
   */
  readonly type?: MediaType.MediaType | (string & {}) | undefined
}

/**
 * Reads what can be downloaded out of a message: a wrapper message (`{ imageMessage }`,
 * `{ viewOnceMessageV2: { message } }`, `{ protocolMessage: { historySyncNotification } }`, a
 * `WebMessageInfo`, …), an app-state `ExternalBlobReference`, or an inner media message with
 * `options.type`. Numbers may be numbers, bigints, `Long`s or decimal strings; bytes may be
 * `Uint8Array`s, base64 or JSON `Buffer`s. A link preview (`extendedTextMessage`) reads as its
 * `link-thumbnail`, and a `*-thumbnail` type reads the server-hosted thumbnail (see
 * {@link thumbnail}). Bad input is a typed error, never a throw.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaMessage } from "effect-wa-media"
 *
 * declare const received: string // a message as JSON, from a file or a queue
 *
 * const program = Effect.gen(function*() {
 *   const media = yield* MediaMessage.downloadable(JSON.parse(received))
 *   // media.mediaType, media.directPath, media.mediaKey (Redacted), …
 * })
 * ```
 *
 * @since 0.1.0
 * @category reading
 */
export const downloadable: (
  message: unknown,
  options?: ReadOptions
) => Effect.Effect<Downloadable, MediaMessageError | InvalidMediaKey | UnknownMediaType> = read.downloadable

/**
 * Reads the server-hosted thumbnail of an image, video, document or sticker pack message, or of a
 * link preview: `thumbnailDirectPath`, `thumbnailSha256` and `thumbnailEncSha256`, with the
 * parent's media key, under the matching `*-thumbnail` type. `options.type` names the parent type
 * (or the thumbnail type) of an inner message. No server-hosted thumbnail: `MediaMessageError`
 * `NoMedia`.
 *
 * @since 0.1.0
 * @category reading
 */
export const thumbnail: (
  message: unknown,
  options?: ReadOptions
) => Effect.Effect<Downloadable, MediaMessageError | InvalidMediaKey | UnknownMediaType> = read.thumbnail

/**
 * Raw download parameters, as the command line takes them. Byte values may be base64 (standard or
 * url-safe) or bytes; no `mediaKey` means unencrypted media.
 *
 * @since 0.1.0
 * @category models
 */
export interface Params {
  readonly type: MediaType.MediaType | (string & {})
  readonly directPath?: string | undefined
  readonly url?: string | undefined
  readonly staticUrl?: string | undefined
  readonly mediaKey?: string | Uint8Array | MediaKey | undefined
  readonly fileEncSha256?: string | Uint8Array | undefined
  readonly fileSha256?: string | Uint8Array | undefined
  readonly fileLength?: number | bigint | string | undefined
}

/**
 * A {@link Downloadable} from raw parameters, checked like a message.
 *
 * @example
 * ```ts
 * import { MediaMessage } from "effect-wa-media"
 *
 * const media = MediaMessage.fromParams({
 *   type: "image",
 *   directPath: "/v/t62.7118-24/123_456_789_n.enc?ccb=11-4",
 *   mediaKey: "…base64…",
 *   fileEncSha256: "…base64…"
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromParams: (
  params: Params
) => Effect.Effect<Downloadable, MediaMessageError | InvalidMediaKey | UnknownMediaType> = read.fromParams

/**
 * The {@link Downloadable} of an upload result, to fetch back what was just uploaded.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromUpload: (media: UploadedMedia) => Downloadable = read.fromUpload

// ---------------------------------------------------------------------------------------------
// Building from uploads
// ---------------------------------------------------------------------------------------------

/**
 * Metadata of an image message.
 *
 * @since 0.1.0
 * @category building
 */
export interface ImageOptions {
  /** Default `image/jpeg`. */
  readonly mimetype?: string | undefined
  readonly caption?: string | undefined
  readonly width?: number | undefined
  readonly height?: number | undefined
  /** The small inline JPEG preview. */
  readonly jpegThumbnail?: Uint8Array | undefined
  /**
   * A server-hosted thumbnail uploaded under this media's key (`MediaUpload.uploadThumbnail`): fills
   * `thumbnailDirectPath`, `thumbnailSha256` and `thumbnailEncSha256`.
   */
  readonly serverThumbnail?: UploadedMedia | undefined
  readonly contextInfo?: ContextInfo | undefined
}

/**
 * Metadata of a video message.
 *
 * @since 0.1.0
 * @category building
 */
export interface VideoOptions {
  /** Default `video/mp4`. */
  readonly mimetype?: string | undefined
  readonly caption?: string | undefined
  readonly width?: number | undefined
  readonly height?: number | undefined
  readonly seconds?: number | undefined
  /** Play as a looping GIF. */
  readonly gifPlayback?: boolean | undefined
  readonly jpegThumbnail?: Uint8Array | undefined
  /**
   * A server-hosted thumbnail uploaded under this media's key (`MediaUpload.uploadThumbnail`): fills
   * `thumbnailDirectPath`, `thumbnailSha256` and `thumbnailEncSha256`.
   */
  readonly serverThumbnail?: UploadedMedia | undefined
  readonly contextInfo?: ContextInfo | undefined
}

/**
 * Metadata of a round video note (`ptvMessage`).
 *
 * @since 0.1.0
 * @category building
 */
export interface PtvOptions {
  /** Default `video/mp4`. */
  readonly mimetype?: string | undefined
  readonly width?: number | undefined
  readonly height?: number | undefined
  readonly seconds?: number | undefined
  readonly jpegThumbnail?: Uint8Array | undefined
  /**
   * A server-hosted thumbnail uploaded under this media's key (`MediaUpload.uploadThumbnail`): fills
   * `thumbnailDirectPath`, `thumbnailSha256` and `thumbnailEncSha256`.
   */
  readonly serverThumbnail?: UploadedMedia | undefined
  readonly contextInfo?: ContextInfo | undefined
}

/**
 * Metadata of an audio message.
 *
 * @since 0.1.0
 * @category building
 */
export interface AudioOptions {
  /** Default `audio/ogg; codecs=opus` (what voice notes use); give the real type of other audio. */
  readonly mimetype?: string | undefined
  readonly seconds?: number | undefined
  /** A voice note ("push to talk"). */
  readonly ptt?: boolean | undefined
  readonly waveform?: Uint8Array | undefined
  readonly contextInfo?: ContextInfo | undefined
}

/**
 * Metadata of a document message.
 *
 * @since 0.1.0
 * @category building
 */
export interface DocumentOptions {
  /** Default `application/octet-stream`. */
  readonly mimetype?: string | undefined
  readonly caption?: string | undefined
  readonly fileName?: string | undefined
  readonly title?: string | undefined
  readonly pageCount?: number | undefined
  readonly jpegThumbnail?: Uint8Array | undefined
  /**
   * A server-hosted thumbnail uploaded under this media's key (`MediaUpload.uploadThumbnail`): fills
   * `thumbnailDirectPath`, `thumbnailSha256` and `thumbnailEncSha256`.
   */
  readonly serverThumbnail?: UploadedMedia | undefined
  readonly contextInfo?: ContextInfo | undefined
}

/**
 * Metadata of a sticker message.
 *
 * @since 0.1.0
 * @category building
 */
export interface StickerOptions {
  /** Default `image/webp`. */
  readonly mimetype?: string | undefined
  readonly width?: number | undefined
  readonly height?: number | undefined
  readonly isAnimated?: boolean | undefined
  /** The small inline PNG preview. */
  readonly pngThumbnail?: Uint8Array | undefined
  readonly contextInfo?: ContextInfo | undefined
}

/**
 * Builds an `imageMessage` from an image (or sticker) upload. The `mediaKey` of the result is the
 * raw key: the message is what gets sent, so the redaction ends here.
 *
 * @example
 * ```ts
 * import { MediaMessage, type MediaUpload } from "effect-wa-media"
 *
 * declare const uploaded: MediaUpload.UploadResult // what MediaUpload's `upload` returned
 *
 * const message = MediaMessage.image(uploaded, { caption: "hello", width: 640, height: 480 })
 * // Effect<{ imageMessage: { url, directPath, mediaKey, … } }>
 * ```
 *
 * @since 0.1.0
 * @category building
 */
export const image: (media: UploadedMedia, options?: ImageOptions) => Effect.Effect<
  WrappedImage,
  MediaMessageError
> = build.builder("imageMessage")

/**
 * Builds a `videoMessage` from a video upload, with its streaming sidecar when the upload has one.
 *
 * @since 0.1.0
 * @category building
 */
export const video: (media: UploadedMedia, options?: VideoOptions) => Effect.Effect<
  WrappedVideo,
  MediaMessageError
> = build.builder("videoMessage")

/**
 * Builds a round video note (`ptvMessage`, a `VideoMessage`) from a video upload.
 *
 * @since 0.1.0
 * @category building
 */
export const ptv: (media: UploadedMedia, options?: PtvOptions) => Effect.Effect<
  WrappedPtv,
  MediaMessageError
> = build.builder("ptvMessage")

/**
 * Builds an `audioMessage` from an audio upload (`ptt: true` for a voice note).
 *
 * @since 0.1.0
 * @category building
 */
export const audio: (media: UploadedMedia, options?: AudioOptions) => Effect.Effect<
  WrappedAudio,
  MediaMessageError
> = build.builder("audioMessage")

/**
 * Builds a `documentMessage` from a document upload.
 *
 * @since 0.1.0
 * @category building
 */
export const document: (media: UploadedMedia, options?: DocumentOptions) => Effect.Effect<
  WrappedDocument,
  MediaMessageError
> = build.builder("documentMessage")

/**
 * Builds a `stickerMessage` from a sticker (or image) upload.
 *
 * @since 0.1.0
 * @category building
 */
export const sticker: (media: UploadedMedia, options?: StickerOptions) => Effect.Effect<
  WrappedSticker,
  MediaMessageError
> = build.builder("stickerMessage")

// ---------------------------------------------------------------------------------------------
// Forwarding by CDN reuse
// ---------------------------------------------------------------------------------------------

/**
 * Options of {@link forward}.
 *
 * @since 0.1.0
 * @category forwarding
 */
export interface ForwardOptions {
  /** Replaces the caption; `""` removes it; absent keeps the original caption. */
  readonly caption?: string | undefined
  /** A fresh `contextInfo` for the new message (none is copied from the original). */
  readonly contextInfo?: ContextInfo | undefined
  /** The type of an inner media message given without its wrapper. */
  readonly type?: MediaType.MediaType | (string & {}) | undefined
}

/**
 * Forwards media by CDN reuse: a NEW message of the same kind with the original's `url`,
 * `directPath`, `mediaKey`, hashes, `fileLength`, `mediaKeyTimestamp`, `mimetype`, inline and
 * server-hosted thumbnails, dimensions, `seconds`, `ptt`/`gifPlayback`/`isAnimated`, `fileName`,
 * `title`, `pageCount` and `streamingSidecar`, all normalised (bytes as `Uint8Array`, numbers as
 * numbers). No `contextInfo`, ids or other fields are copied; the caption is replaced when given.
 * No bytes move, so it only works while the CDN still holds the blob.
 *
 * @example
 * ```ts
 * import { MediaMessage } from "effect-wa-media"
 *
 * declare const incoming: MediaMessage.WebMessageInfoLike // e.g. Baileys' proto.IWebMessageInfo
 *
 * const outgoing = MediaMessage.forward(incoming.message, { caption: "look at this" })
 * ```
 *
 * @since 0.1.0
 * @category forwarding
 */
export const forward: (
  message: unknown,
  options?: ForwardOptions
) => Effect.Effect<MediaContentMessage, MediaMessageError | InvalidMediaKey | UnknownMediaType> = forwarding.forward

/**
 * Reuses the thumbnail of an incoming message in a message built for the same media (for example
 * after downloading and uploading it again): the inline `jpegThumbnail` (`pngThumbnail` for a
 * sticker) and, when both messages use the same media key and thumbnail type, the server-hosted
 * thumbnail fields. A server-hosted thumbnail is encrypted with its parent's key, so under a new
 * key it is left out: the recipient could not decrypt it. Nothing to reuse: `NoMedia`.
 *
 * @since 0.1.0
 * @category forwarding
 */
export const withThumbnailFrom: <M extends MediaContentMessage>(
  incoming: unknown,
  message: M
) => Effect.Effect<M, MediaMessageError | InvalidMediaKey> = forwarding.withThumbnailFrom

// ---------------------------------------------------------------------------------------------
// Albums
// ---------------------------------------------------------------------------------------------

/**
 * `WAProto.MessageAssociation.AssociationType.MEDIA_ALBUM`.
 *
 * @since 0.1.0
 * @category albums
 */
export const MEDIA_ALBUM: 1 = albums.MEDIA_ALBUM

/**
 * What an album child may be: an image or a video message as the builders return them, or a
 * `Message` as protobuf.js types it (checked to hold one image or one video when the album is built).
 *
 * @since 0.1.0
 * @category albums
 */
export type AlbumChildMessage = WrappedImage | WrappedVideo | MessageLike

/**
 * Options of {@link album}.
 *
 * @since 0.1.0
 * @category albums
 */
export interface AlbumOptions<C extends AlbumChildMessage = WrappedImage | WrappedVideo> {
  /** The album's images and videos, in order, as the builders return them (or as protobuf.js types them). */
  readonly children: ReadonlyArray<C>
  /** The key the parent `albumMessage` is (or will be) sent under; needs its `id`. */
  readonly parentMessageKey: MessageKey
}

/**
 * One album child, ready to send.
 *
 * @since 0.1.0
 * @category albums
 */
export interface AlbumChild<C extends AlbumChildMessage = WrappedImage | WrappedVideo> {
  readonly associatedChildMessage: FutureProofMessage<C>
  readonly messageContextInfo: { readonly messageAssociation: MessageAssociation }
}

/**
 * An album: the parent message to send first, then each child.
 *
 * @since 0.1.0
 * @category albums
 */
export interface Album<C extends AlbumChildMessage = WrappedImage | WrappedVideo> {
  readonly parent: { readonly albumMessage: AlbumMessage }
  readonly children: ReadonlyArray<AlbumChild<C>>
}

/**
 * Builds an album: the parent `{ albumMessage: { expectedImageCount, expectedVideoCount } }` and
 * each child as `{ associatedChildMessage: { message: child }, messageContextInfo:
 * { messageAssociation: { associationType: MEDIA_ALBUM, parentMessageKey } } }`
 * (`messageContextInfo` sits on the `Message`, next to its content, as in `WAProto`). An empty
 * album, a child that is neither an image nor a video, or a parent key without an `id` is an
 * `InvalidField` error.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaMessage } from "effect-wa-media"
 *
 * declare const uploadedPhoto: MediaMessage.UploadedMedia
 * declare const uploadedClip: MediaMessage.UploadedMedia
 * declare const remoteJid: string
 * declare const parentId: string
 *
 * const program = Effect.gen(function*() {
 *   const first = yield* MediaMessage.image(uploadedPhoto)
 *   const second = yield* MediaMessage.video(uploadedClip)
 *   const { parent, children } = yield* MediaMessage.album({
 *     children: [first, second],
 *     parentMessageKey: { remoteJid, fromMe: true, id: parentId }
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 * @category albums
 */
export const album: <C extends AlbumChildMessage>(
  options: AlbumOptions<C>
) => Effect.Effect<Album<C>, MediaMessageError> = albums.album
