/**
 * Building media messages: one table of what each kind of media message is (the media type its
 * keys come from, its default mimetype, its fields), and one builder that serves all six.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type { MediaMessageError } from "../MediaError.js"
import type * as MediaMessage from "../MediaMessage.js"
import * as MediaType from "../MediaType.js"
import {
  BytesField,
  Count,
  defined,
  DirectPath,
  type Fields,
  type FieldSchema,
  Flag,
  Hash,
  invalid,
  sameKey,
  Text
} from "./messageFields.js"

/** The kinds of media message this library builds and forwards. @internal */
export type ContentKind = Extract<keyof MediaMessage.Message, MediaMessage.MediaKind>

/** A field of a content and the schema it is read with. @internal */
export type FieldSpec = readonly [field: string, schema: FieldSchema]

/** @internal */
export const serverThumbnailSpecs: ReadonlyArray<FieldSpec> = [
  ["thumbnailDirectPath", DirectPath],
  ["thumbnailSha256", Hash],
  ["thumbnailEncSha256", Hash]
]

/** What a kind of media message is. @internal */
export interface KindSpec {
  /** The media type whose keys the blob must be encrypted with. */
  readonly type: MediaType.MediaType
  readonly mimetype: string
  /** Whether the content carries a caption (`forward` keeps or replaces it). */
  readonly caption: boolean
  /** The inline preview field, if the kind has one. */
  readonly inlineThumbnail: "jpegThumbnail" | "pngThumbnail" | undefined
  readonly serverThumbnail: boolean
  /** Whether the message carries the upload's streaming sidecar. */
  readonly sidecar: boolean
  /** The builder options copied as given, in message order. */
  readonly options: ReadonlyArray<string>
  /** The fields `forward` copies, checked, after the media fields. */
  readonly forwarded: ReadonlyArray<FieldSpec>
}

const video: KindSpec = {
  type: "video",
  mimetype: "video/mp4",
  caption: true,
  inlineThumbnail: "jpegThumbnail",
  serverThumbnail: true,
  sidecar: true,
  options: ["caption", "width", "height", "seconds", "gifPlayback", "jpegThumbnail"],
  forwarded: [
    ["width", Count],
    ["height", Count],
    ["seconds", Count],
    ["gifPlayback", Flag],
    ["jpegThumbnail", BytesField],
    ["streamingSidecar", BytesField],
    ...serverThumbnailSpecs
  ]
}

/** @internal */
export const kinds: { readonly [K in ContentKind]: KindSpec } = {
  imageMessage: {
    type: "image",
    mimetype: "image/jpeg",
    caption: true,
    inlineThumbnail: "jpegThumbnail",
    serverThumbnail: true,
    sidecar: false,
    options: ["caption", "width", "height", "jpegThumbnail"],
    forwarded: [["width", Count], ["height", Count], ["jpegThumbnail", BytesField], ...serverThumbnailSpecs]
  },
  videoMessage: video,
  // A round video note is a `VideoMessage` (it keeps a caption when forwarded) built without a
  // caption and never a GIF.
  ptvMessage: {
    ...video,
    options: video.options.filter((field) => field !== "caption" && field !== "gifPlayback"),
    forwarded: video.forwarded.filter(([field]) => field !== "gifPlayback")
  },
  audioMessage: {
    type: "audio",
    mimetype: "audio/ogg; codecs=opus",
    caption: false,
    inlineThumbnail: undefined,
    serverThumbnail: false,
    sidecar: true,
    options: ["seconds", "ptt", "waveform"],
    forwarded: [["seconds", Count], ["ptt", Flag], ["streamingSidecar", BytesField], ["waveform", BytesField]]
  },
  documentMessage: {
    type: "document",
    mimetype: "application/octet-stream",
    caption: true,
    inlineThumbnail: "jpegThumbnail",
    serverThumbnail: true,
    sidecar: false,
    options: ["caption", "fileName", "title", "pageCount", "jpegThumbnail"],
    forwarded: [
      ["fileName", Text],
      ["title", Text],
      ["pageCount", Count],
      ["jpegThumbnail", BytesField],
      ["thumbnailHeight", Count],
      ["thumbnailWidth", Count],
      ...serverThumbnailSpecs
    ]
  },
  stickerMessage: {
    type: "sticker",
    mimetype: "image/webp",
    caption: false,
    inlineThumbnail: "pngThumbnail",
    serverThumbnail: false,
    sidecar: false,
    options: ["width", "height", "isAnimated", "pngThumbnail"],
    forwarded: [["width", Count], ["height", Count], ["isAnimated", Flag], ["pngThumbnail", BytesField]]
  }
}

/** @internal */
export const contentKinds = Object.keys(kinds) as ReadonlyArray<ContentKind>

/** @internal */
export const isContentKind = (kind: MediaMessage.MediaKind): kind is ContentKind =>
  (contentKinds as ReadonlyArray<string>).includes(kind)

/** The kind an inner media message of this type is sent as (`video` is a `videoMessage`). @internal */
export const kindOfType = (type: MediaType.MediaType): ContentKind | undefined =>
  contentKinds.find((kind) => kinds[kind].type === type)

/** The single place where a content object built field by field becomes a typed message. @internal */
export const wrap = <M extends MediaMessage.MediaContentMessage>(kind: ContentKind, content: Fields): M =>
  ({ [kind]: content }) as unknown as M

// ---------------------------------------------------------------------------------------------
// Building from uploads
// ---------------------------------------------------------------------------------------------

// The server-hosted thumbnail fields: its blob must be under the parent's key and the parent's
// `*-thumbnail` type, or the recipient could not decrypt it (docs/protocol.md section 1).
const serverThumbnailFields = (
  media: MediaMessage.UploadedMedia,
  kind: ContentKind,
  thumbnail: MediaMessage.UploadedMedia | undefined
): Either.Either<MediaMessage.ServerThumbnailFields, MediaMessageError> => {
  if (thumbnail === undefined) return Either.right({})
  const expected = MediaType.thumbnailType(kinds[kind].type)
  if (thumbnail.mediaType !== expected) {
    return Either.left(
      invalid(`the server-hosted thumbnail of ${kind} must be ${expected} media, not ${thumbnail.mediaType}`)
    )
  }
  if (!sameKey(Redacted.value(thumbnail.mediaKey), Redacted.value(media.mediaKey))) {
    return Either.left(invalid(`the server-hosted thumbnail of ${kind} must be encrypted with the media's own key`))
  }
  return Either.right({
    thumbnailDirectPath: thumbnail.directPath,
    thumbnailSha256: new Uint8Array(thumbnail.fileSha256),
    thumbnailEncSha256: new Uint8Array(thumbnail.fileEncSha256)
  })
}

// What every builder's options may hold; the per-kind fields are read by name from the table.
interface BuilderOptions {
  readonly mimetype?: string | undefined
  readonly serverThumbnail?: MediaMessage.UploadedMedia | undefined
  readonly contextInfo?: MediaMessage.ContextInfo | undefined
}

interface Built {
  readonly imageMessage: MediaMessage.WrappedImage
  readonly videoMessage: MediaMessage.WrappedVideo
  readonly ptvMessage: MediaMessage.WrappedPtv
  readonly audioMessage: MediaMessage.WrappedAudio
  readonly documentMessage: MediaMessage.WrappedDocument
  readonly stickerMessage: MediaMessage.WrappedSticker
}

interface Options {
  readonly imageMessage: MediaMessage.ImageOptions
  readonly videoMessage: MediaMessage.VideoOptions
  readonly ptvMessage: MediaMessage.PtvOptions
  readonly audioMessage: MediaMessage.AudioOptions
  readonly documentMessage: MediaMessage.DocumentOptions
  readonly stickerMessage: MediaMessage.StickerOptions
}

/**
 * The builder of one kind: the upload's fields (after checking that its keys are the kind's), the
 * server-hosted thumbnail when the kind has one, the mimetype or the kind's default, the options
 * the kind takes, the streaming sidecar when it carries one, and `contextInfo`.
 *
 * @internal
 */
export const builder = <K extends ContentKind>(kind: K) =>
(
  media: MediaMessage.UploadedMedia,
  options?: Options[K]
): Effect.Effect<Built[K], MediaMessageError> =>
  Effect.suspend(() => {
    const spec = kinds[kind]
    const given: BuilderOptions = options ?? {}
    // The recipient derives the keys from the message type: they must be the ones the blob used.
    if (MediaType.info(media.mediaType).hkdfInfo !== MediaType.info(spec.type).hkdfInfo) {
      return Effect.fail(invalid(`a ${media.mediaType} upload cannot be sent as ${kind}`))
    }
    const thumbnail = serverThumbnailFields(media, kind, spec.serverThumbnail ? given.serverThumbnail : undefined)
    if (Either.isLeft(thumbnail)) return Effect.fail(thumbnail.left)
    const named = given as Fields
    return Effect.succeed(wrap<Built[K]>(kind, {
      url: media.url,
      directPath: media.directPath,
      mediaKey: new Uint8Array(Redacted.value(media.mediaKey)),
      fileSha256: new Uint8Array(media.fileSha256),
      fileEncSha256: new Uint8Array(media.fileEncSha256),
      fileLength: media.fileLength,
      mediaKeyTimestamp: media.mediaKeyTimestamp,
      ...thumbnail.right,
      mimetype: given.mimetype ?? spec.mimetype,
      ...defined({
        ...Object.fromEntries(spec.options.map((field) => [field, named[field]])),
        ...(spec.sidecar && media.streamingSidecar !== undefined
          ? { streamingSidecar: new Uint8Array(media.streamingSidecar) }
          : {}),
        contextInfo: given.contextInfo
      })
    }))
  })
