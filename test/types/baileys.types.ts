// Type-level tests, checked by `tsc` in `npm test` (nothing here runs): Baileys users pass
// protobuf.js-generated message types to every function that takes a message, without casts, and
// values that can never be a message are rejected at compile time.
import type { Effect, Sink, Stream } from "effect"
import type { MediaDownload, MediaUpload } from "effect-wa-media"
import { MediaMessage } from "effect-wa-media"
import type { Writable } from "node:stream"
import type { Long, proto } from "./WAProto.js"

type Downloads = MediaDownload.MediaDownload["Type"]

// Newer generators spell optional fields `T | null | undefined`.
interface IImageMessageWithUndefined {
  url?: string | null | undefined
  directPath?: string | null | undefined
  mediaKey?: Uint8Array | null | undefined
  fileSha256?: Uint8Array | null | undefined
  fileEncSha256?: Uint8Array | null | undefined
  fileLength?: number | Long | null | undefined
  mediaKeyTimestamp?: number | Long | null | undefined
  contextInfo?: proto.IContextInfo | null | undefined
}

export const downloadsAcceptProtobufTypes = (
  downloads: Downloads,
  msg: proto.IWebMessageInfo,
  image: proto.Message.IImageMessage,
  video: proto.Message.IVideoMessage,
  audio: proto.Message.IAudioMessage,
  document: proto.Message.IDocumentMessage,
  sticker: proto.Message.IStickerMessage,
  pack: proto.Message.IStickerPackMessage,
  link: proto.Message.IExtendedTextMessage,
  history: proto.Message.IHistorySyncNotification,
  blob: proto.IExternalBlobReference,
  newer: IImageMessageWithUndefined,
  sink: Sink.Sink<number, Uint8Array>,
  writable: Writable
): ReadonlyArray<unknown> => {
  const bytes: Effect.Effect<Uint8Array, MediaDownload.DownloadError> = downloads.bytes(msg)
  const stream: Stream.Stream<Uint8Array, MediaDownload.DownloadError> = downloads.stream(msg.message)
  return [
    bytes,
    stream,
    // `msg.message` is `IMessage | null | undefined`: a missing message is a NoMedia error at run time.
    downloads.bytes(msg.message),
    downloads.bytes(msg.message?.imageMessage, { type: "image" }),
    downloads.bytes(msg.message?.viewOnceMessageV2?.message),
    downloads.toFile(msg, "photo.jpg"),
    downloads.toSink(msg, sink),
    downloads.toWritable(msg, writable),
    downloads.bytes(msg, { thumbnail: true }),
    downloads.bytes(image, { type: "image" }),
    downloads.bytes(video, { type: "video" }),
    downloads.bytes(audio, { type: "audio" }),
    downloads.bytes(document, { type: "document" }),
    downloads.bytes(sticker, { type: "sticker" }),
    downloads.bytes(pack, { type: "sticker-pack" }),
    downloads.bytes(link, { type: "link-thumbnail" }),
    downloads.bytes(history, { type: "history" }),
    downloads.bytes(blob, { type: "app-state" }),
    downloads.bytes(newer, { type: "image" }),
    downloads.bytes({ imageMessage: image }),
    downloads.bytes({ ptvMessage: video }),
    downloads.bytes({ protocolMessage: { historySyncNotification: history } }),
    downloads.bytes(null),
    downloads.bytes(undefined)
  ]
}

export const readersAcceptProtobufTypes = (
  msg: proto.IWebMessageInfo,
  children: ReadonlyArray<proto.IMessage>,
  uploaded: MediaUpload.UploadResult,
  context: proto.IContextInfo
): ReadonlyArray<unknown> => [
  MediaMessage.downloadable(msg),
  MediaMessage.thumbnail(msg.message),
  MediaMessage.mediaKind(msg),
  MediaMessage.forward(msg, { contextInfo: context }),
  MediaMessage.image(uploaded, { contextInfo: context }),
  MediaMessage.document(uploaded, { contextInfo: { quotedMessage: msg.message, stanzaId: msg.key.id } }),
  MediaMessage.album({ children, parentMessageKey: msg.key }),
  MediaMessage.album({ children: [{ imageMessage: msg.message?.imageMessage }], parentMessageKey: msg.key })
]

// A message built by this library is a message too: it can be downloaded, quoted, put in an album.
export const builtMessagesAreMessages = (
  downloads: Downloads,
  uploaded: MediaUpload.UploadResult,
  built: MediaMessage.WrappedImage,
  album: MediaMessage.Album
): ReadonlyArray<unknown> => [
  downloads.bytes(built),
  downloads.bytes(uploaded),
  downloads.bytes(album.children[0]!),
  MediaMessage.image(uploaded, { contextInfo: { quotedMessage: built } }),
  MediaMessage.album({ children: [built], parentMessageKey: { id: "3EB0" } })
]

export const rejected = (downloads: Downloads, uploaded: MediaUpload.UploadResult): ReadonlyArray<unknown> => [
  // @ts-expect-error a URL string is not a message
  downloads.bytes("https://mmg.whatsapp.net/v/t62.7118-24/1.enc"),
  // @ts-expect-error a number is not a message
  downloads.bytes(42),
  // @ts-expect-error a media message's content is an object
  downloads.bytes({ imageMessage: "photo.jpg" }),
  // @ts-expect-error fileLength is an integer (number, bigint, Long or decimal string)
  downloads.bytes({ imageMessage: { directPath: "/v/1.enc", fileLength: true } }),
  // @ts-expect-error mediaKey is bytes
  downloads.bytes({ videoMessage: { directPath: "/v/1.enc", mediaKey: 32 } }),
  // @ts-expect-error a Long has numeric halves
  downloads.bytes({ documentMessage: { directPath: "/v/1.enc", fileLength: { low: "1", high: 0 } } }),
  // @ts-expect-error a WebMessageInfo's message is a Message
  downloads.bytes({ key: {}, message: "hello" }),
  // @ts-expect-error a message key's id is a string
  MediaMessage.album({ children: [], parentMessageKey: { id: 7 } }),
  // @ts-expect-error a quoted message id is a string
  MediaMessage.image(uploaded, { contextInfo: { stanzaId: 1 } })
]
