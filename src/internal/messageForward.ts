/**
 * Forwarding media by CDN reuse, and reusing an incoming message's thumbnails in a new message.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type { InvalidMediaKey, MediaMessageError, UnknownMediaType } from "../MediaError.js"
import type { ForwardOptions, MediaContentMessage } from "../MediaMessage.js"
import type * as MediaType from "../MediaType.js"
import {
  type ContentKind,
  contentKinds,
  type FieldSpec,
  isContentKind,
  kindOfType,
  kinds,
  serverThumbnailSpecs,
  wrap
} from "./messageBuild.js"
import {
  BytesField,
  Count,
  decodeField,
  defined,
  type Fields,
  invalid,
  isNonEmptyString,
  isRecord,
  noMedia,
  readCount,
  type ReadError,
  readMediaKey,
  readString,
  sameKey
} from "./messageFields.js"
import { kindMediaType, locate, notMedia, readMedia, thumbnailOf, withType } from "./messageRead.js"

const copyFields = (content: Fields, specs: ReadonlyArray<FieldSpec>): Either.Either<Fields, MediaMessageError> =>
  Either.gen(function*() {
    const copied: Record<string, unknown> = {}
    for (const [field, schema] of specs) {
      const value = yield* decodeField(schema, content, field)
      if (value !== undefined) copied[field] = value
    }
    return copied
  })

const locateContent = (
  message: unknown,
  type: MediaType.MediaType | undefined
): Either.Either<{ readonly kind: ContentKind; readonly content: Fields }, MediaMessageError> => {
  const located = locate(message)
  if (located !== undefined) {
    const own = kindMediaType(located.kind)
    if (type !== undefined && type !== own) {
      return Either.left(invalid(`the message holds ${located.kind} (${own}), not ${type} media`))
    }
    const kind = located.kind
    return isContentKind(kind)
      ? Either.right({ kind, content: located.content })
      : Either.left(noMedia(`${located.kind} cannot be forwarded by CDN reuse`))
  }
  if (type === undefined || !isRecord(message)) return Either.left(notMedia(message))
  const kind = kindOfType(type)
  return kind === undefined
    ? Either.left(noMedia(`${type} media cannot be forwarded by CDN reuse`))
    : Either.right({ kind, content: message })
}

const forwardAs = (
  message: unknown,
  type: MediaType.MediaType | undefined,
  options: ForwardOptions
): Either.Either<MediaContentMessage, ReadError> =>
  Either.gen(function*() {
    const { content, kind } = yield* locateContent(message, type)
    const spec = kinds[kind]
    if (options.caption !== undefined && !spec.caption) return yield* Either.left(invalid(`${kind} has no caption`))
    // Reading it as a download first checks that the recipient will be able to fetch it.
    const media = yield* readMedia(content, spec.type)
    const fields: Record<string, unknown> = {
      ...defined({
        url: media.url,
        directPath: media.directPath,
        staticUrl: media.staticUrl,
        mediaKey: media.mediaKey === undefined ? undefined : Redacted.value(media.mediaKey),
        fileSha256: media.fileSha256,
        fileEncSha256: media.fileEncSha256,
        fileLength: media.fileLength,
        mediaKeyTimestamp: yield* readCount(content, "mediaKeyTimestamp"),
        mimetype: yield* readString(content, "mimetype")
      }),
      ...yield* copyFields(content, spec.forwarded)
    }
    const caption = options.caption ?? (spec.caption ? yield* readString(content, "caption") : undefined)
    if (caption !== undefined && caption !== "") fields.caption = caption
    if (options.contextInfo !== undefined) fields.contextInfo = options.contextInfo
    return wrap<MediaContentMessage>(kind, fields)
  })

/** @internal */
export const forward = (
  message: unknown,
  options: ForwardOptions = {}
): Effect.Effect<MediaContentMessage, ReadError | UnknownMediaType> =>
  withType(options.type, (type) => forwardAs(message, type, options))

/** @internal */
export const withThumbnailFrom = <M extends MediaContentMessage>(
  incoming: unknown,
  message: M
): Effect.Effect<M, MediaMessageError | InvalidMediaKey> =>
  Effect.gen(function*() {
    const fields = message as unknown as Fields
    const kind = contentKinds.find((candidate) => isRecord(fields[candidate]))
    const target = kind === undefined ? undefined : fields[kind]
    if (kind === undefined || !isRecord(target)) return yield* Either.left(notMedia(message))
    const spec = kinds[kind]
    if (spec.inlineThumbnail === undefined) return yield* Either.left(invalid(`${kind} carries no thumbnail`))
    const source = locate(incoming)
    if (source === undefined) return yield* Either.left(notMedia(incoming))
    const copied: Record<string, unknown> = yield* copyFields(source.content, [[spec.inlineThumbnail, BytesField]])
    if (kind === "documentMessage" && copied.jpegThumbnail !== undefined) {
      Object.assign(copied, yield* copyFields(source.content, [["thumbnailHeight", Count], ["thumbnailWidth", Count]]))
    }
    const thumbnailType = thumbnailOf(spec.type)
    const sourceType = kindMediaType(source.kind)
    if (
      thumbnailType !== undefined && thumbnailOf(sourceType) === thumbnailType &&
      isNonEmptyString(source.content.thumbnailDirectPath)
    ) {
      const sourceKey = yield* readMediaKey(source.content, sourceType)
      const targetKey = yield* readMediaKey(target, spec.type)
      if (sameKey(sourceKey, targetKey)) Object.assign(copied, yield* copyFields(source.content, serverThumbnailSpecs))
    }
    if (Object.keys(copied).length === 0) {
      return yield* Either.left(noMedia("the incoming message has no thumbnail to reuse"))
    }
    return wrap<M>(kind, { ...target, ...copied })
  })
