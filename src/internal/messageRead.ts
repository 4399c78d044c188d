/**
 * Reading what can be downloaded out of a message: locating the media content through every
 * wrapper, and reading it (or its server-hosted thumbnail) as a `Downloadable`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { MediaMessageError, type UnknownMediaType } from "../MediaError.js"
import type { Downloadable, MediaKind, Params, ReadOptions, UploadedMedia } from "../MediaMessage.js"
import * as MediaType from "../MediaType.js"
import {
  defined,
  describe,
  type Fields,
  httpsUrl,
  invalid,
  isNonEmptyString,
  isRecord,
  noMedia,
  readCount,
  readDirectPath,
  type ReadError,
  readHash,
  readMediaKey
} from "./messageFields.js"

const kindTypes: { readonly [K in MediaKind]: MediaType.MediaType } = {
  imageMessage: "image",
  videoMessage: "video",
  ptvMessage: "video",
  audioMessage: "audio",
  documentMessage: "document",
  stickerMessage: "sticker",
  stickerPackMessage: "sticker-pack",
  extendedTextMessage: "link-thumbnail",
  historySyncNotification: "history",
  externalBlobReference: "app-state"
}

/** @internal */
export const kindMediaType = (kind: MediaKind): MediaType.MediaType => kindTypes[kind]

// ---------------------------------------------------------------------------------------------
// Locating media inside messages
// ---------------------------------------------------------------------------------------------

const contentKinds: ReadonlyArray<Exclude<MediaKind, "externalBlobReference">> = [
  "imageMessage",
  "videoMessage",
  "ptvMessage",
  "audioMessage",
  "documentMessage",
  "stickerMessage",
  "stickerPackMessage",
  "extendedTextMessage",
  "historySyncNotification"
]

// `Message` fields holding a `FutureProofMessage { message }`.
const wrapperFields: ReadonlyArray<string> = [
  "documentWithCaptionMessage",
  "viewOnceMessage",
  "viewOnceMessageV2",
  "viewOnceMessageV2Extension",
  "ephemeralMessage",
  "editedMessage",
  "associatedChildMessage",
  "lottieStickerMessage",
  "groupMentionedMessage",
  "botInvokeMessage"
]

// Wrappers nest a few levels at most; the bound keeps cyclic objects from recursing forever.
const maxDepth = 16

/** A media content found in a message. @internal */
export interface Located {
  readonly kind: MediaKind
  readonly content: Fields
  /** The fields from the message down to `content`. */
  readonly path: ReadonlyArray<string>
}

const within = (prefix: ReadonlyArray<string>, located: Located | undefined): Located | undefined =>
  located === undefined ? undefined : { ...located, path: [...prefix, ...located.path] }

const locateAt = (message: unknown, depth: number): Located | undefined => {
  if (!isRecord(message) || depth > maxDepth) return undefined
  for (const kind of contentKinds) {
    const content = message[kind]
    if (!isRecord(content)) continue
    // A plain text message is not media; only a link preview with a server-hosted thumbnail is.
    if (kind === "extendedTextMessage" && !isNonEmptyString(content.thumbnailDirectPath)) continue
    return { kind, content, path: [kind] }
  }
  const protocol = message.protocolMessage
  if (isRecord(protocol)) {
    if (isRecord(protocol.historySyncNotification)) {
      return {
        kind: "historySyncNotification",
        content: protocol.historySyncNotification,
        path: ["protocolMessage", "historySyncNotification"]
      }
    }
    const edited = within(["protocolMessage", "editedMessage"], locateAt(protocol.editedMessage, depth + 1))
    if (edited !== undefined) return edited
  }
  for (const field of wrapperFields) {
    const wrapper = message[field]
    if (!isRecord(wrapper)) continue
    const inner = within([field, "message"], locateAt(wrapper.message, depth + 1))
    if (inner !== undefined) return inner
  }
  // A `WebMessageInfo` (`{ key, message }`) holds its message one level down.
  const inner = within(["message"], locateAt(message.message, depth + 1))
  if (inner !== undefined) return inner
  // An app-state `ExternalBlobReference` is recognised by its length field.
  if (message.fileSizeBytes != null && (message.directPath != null || message.mediaKey != null)) {
    return { kind: "externalBlobReference", content: message, path: [] }
  }
  return undefined
}

/** The media content of a message, through every wrapper. @internal */
export const locate = (message: unknown): Located | undefined => locateAt(message, 0)

/** @internal */
export const mediaKind = (message: unknown): Option.Option<MediaKind> =>
  Option.map(Option.fromNullable(locate(message)), (located) => located.kind)

const replaceAt = (value: unknown, path: ReadonlyArray<string>, content: Fields): unknown => {
  if (path.length === 0) return content
  const [field, ...rest] = path
  const record = value as Fields
  return { ...record, [field!]: replaceAt(record[field!], rest, content) }
}

/** @internal */
export const withDirectPath = <M>(message: M, directPath: string): Option.Option<M> => {
  const located = locate(message)
  if (located === undefined) return Option.none()
  const { url: _, ...content } = located.content
  return Option.some(replaceAt(message, located.path, { ...content, directPath }) as M)
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

const makeDownloadable = (
  fields: {
    readonly mediaType: MediaType.MediaType
    readonly directPath: string | undefined
    readonly url: string | undefined
    readonly staticUrl: string | undefined
    readonly mediaKey: Uint8Array | undefined
    readonly fileSha256: Uint8Array | undefined
    readonly fileEncSha256: Uint8Array | undefined
    readonly fileLength: number | undefined
  }
): Either.Either<Downloadable, MediaMessageError> => {
  if (fields.directPath === undefined && fields.url === undefined && fields.staticUrl === undefined) {
    return Either.left(
      new MediaMessageError({ reason: "MissingField", detail: "directPath (or an https url or staticUrl)" })
    )
  }
  const { mediaKey, ...rest } = fields
  return Either.right({
    ...defined(rest),
    mediaType: fields.mediaType,
    ...(mediaKey === undefined ? {} : { mediaKey: Redacted.make(mediaKey) })
  })
}

/** A media content read as a download of the given type. @internal */
export const readMedia = (content: Fields, mediaType: MediaType.MediaType): Either.Either<Downloadable, ReadError> =>
  Either.gen(function*() {
    const directPath = yield* readDirectPath(content, "directPath")
    const mediaKey = yield* readMediaKey(content, mediaType)
    const fileSha256 = yield* readHash(content, "fileSha256")
    const fileEncSha256 = yield* readHash(content, "fileEncSha256")
    // An app-state `ExternalBlobReference` names its length `fileSizeBytes`.
    const fileLength = content.fileLength != null
      ? yield* readCount(content, "fileLength")
      : yield* readCount(content, "fileSizeBytes")
    return yield* makeDownloadable({
      mediaType,
      directPath,
      url: httpsUrl(content.url),
      staticUrl: httpsUrl(content.staticUrl),
      mediaKey,
      fileSha256,
      fileEncSha256,
      fileLength
    })
  })

const readThumbnail = (content: Fields, thumbnailType: ThumbnailType): Either.Either<Downloadable, ReadError> =>
  Either.gen(function*() {
    const directPath = yield* readDirectPath(content, "thumbnailDirectPath")
    if (directPath === undefined) return yield* Either.left(noMedia("no server-hosted thumbnail (thumbnailDirectPath)"))
    // The thumbnail is encrypted with the parent's key, under the thumbnail's own media type.
    const mediaKey = yield* readMediaKey(content, thumbnailType)
    const fileSha256 = yield* readHash(content, "thumbnailSha256")
    const fileEncSha256 = yield* readHash(content, "thumbnailEncSha256")
    return yield* makeDownloadable({
      mediaType: thumbnailType,
      directPath,
      url: undefined,
      staticUrl: undefined,
      mediaKey,
      fileSha256,
      fileEncSha256,
      fileLength: undefined
    })
  })

type ThumbnailType =
  | "image-thumbnail"
  | "video-thumbnail"
  | "document-thumbnail"
  | "link-thumbnail"
  | "sticker-pack-thumbnail"

const isThumbnailType = (type: MediaType.MediaType): type is ThumbnailType =>
  type === "image-thumbnail" || type === "video-thumbnail" || type === "document-thumbnail" ||
  type === "link-thumbnail" || type === "sticker-pack-thumbnail"

/** The type of the server-hosted thumbnail of media of this type (itself for a thumbnail type). @internal */
export const thumbnailOf = (type: MediaType.MediaType): ThumbnailType | undefined =>
  isThumbnailType(type)
    ? type
    : (MediaType.thumbnailType(type) ?? (type === "sticker-pack" ? "sticker-pack-thumbnail" : undefined))

/** @internal */
export const notMedia = (message: unknown): MediaMessageError =>
  noMedia(
    isRecord(message)
      ? "no media message found (give the type of an inner media message)"
      : `expected a message object, got ${describe(message)}`
  )

/**
 * Runs a pure reader after the optional type name is read: the readers are a synchronous parse.
 *
 * @internal
 */
export const withType = <A, E>(
  type: string | undefined,
  read: (type: MediaType.MediaType | undefined) => Either.Either<A, E>
): Effect.Effect<A, E | UnknownMediaType> =>
  type === undefined
    ? Effect.suspend(() => read(undefined))
    : Effect.flatMap(MediaType.parse(type), read)

const readAs = (message: unknown, type: MediaType.MediaType | undefined): Either.Either<Downloadable, ReadError> => {
  const located = locate(message)
  if (located !== undefined) {
    const own = kindTypes[located.kind]
    if (type === undefined || type === own) {
      return isThumbnailType(own) ? readThumbnail(located.content, own) : readMedia(located.content, own)
    }
    if (isThumbnailType(type) && thumbnailOf(own) === type) return readThumbnail(located.content, type)
    return Either.left(invalid(`the message holds ${located.kind} (${own}), not ${type} media`))
  }
  if (type === undefined || !isRecord(message)) return Either.left(notMedia(message))
  return isThumbnailType(type) ? readThumbnail(message, type) : readMedia(message, type)
}

/** @internal */
export const downloadable = (
  message: unknown,
  options?: ReadOptions
): Effect.Effect<Downloadable, ReadError | UnknownMediaType> => withType(options?.type, (type) => readAs(message, type))

const readThumbnailOf = (
  message: unknown,
  type: MediaType.MediaType | undefined
): Either.Either<Downloadable, ReadError> => {
  const located = locate(message)
  if (located !== undefined) {
    const own = kindTypes[located.kind]
    const thumbnailType = thumbnailOf(own)
    if (thumbnailType === undefined) return Either.left(noMedia(`${located.kind} has no server-hosted thumbnail`))
    if (type !== undefined && type !== own && type !== thumbnailType) {
      return Either.left(invalid(`the message holds ${located.kind} (${own}), not ${type} media`))
    }
    return readThumbnail(located.content, thumbnailType)
  }
  if (type === undefined || !isRecord(message)) return Either.left(notMedia(message))
  const thumbnailType = thumbnailOf(type)
  if (thumbnailType === undefined) return Either.left(noMedia(`${type} media has no server-hosted thumbnail`))
  return readThumbnail(message, thumbnailType)
}

/** @internal */
export const thumbnail = (
  message: unknown,
  options?: ReadOptions
): Effect.Effect<Downloadable, ReadError | UnknownMediaType> =>
  withType(options?.type, (type) => readThumbnailOf(message, type))

/** @internal */
export const fromParams = (params: Params): Effect.Effect<Downloadable, ReadError | UnknownMediaType> =>
  Effect.flatMap(MediaType.parse(params.type), (type) => {
    const { type: _, ...fields } = params
    // A thumbnail type reads the same way: the parameters name the thumbnail's own path and hashes.
    return readMedia({ ...fields }, type)
  })

/** @internal */
export const fromUpload = (media: UploadedMedia): Downloadable => ({
  mediaType: media.mediaType,
  directPath: media.directPath,
  ...(httpsUrl(media.url) === undefined ? {} : { url: media.url }),
  ...(MediaType.isEncrypted(media.mediaType) ? { mediaKey: media.mediaKey } : {}),
  fileSha256: media.fileSha256,
  fileEncSha256: media.fileEncSha256,
  fileLength: media.fileLength
})
