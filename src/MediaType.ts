/**
 * The media types of docs/protocol.md section 1: each fixes the HKDF info string, the upload path, the
 * `mms-type` of download URLs, and whether the blob is encrypted at all.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { UnknownMediaType } from "./MediaError.js"

/**
 * Every library name of a media type.
 *
 * @since 0.1.0
 * @category models
 */
export const names = [
  "image",
  "video",
  "audio",
  "document",
  "sticker",
  "history",
  "app-state",
  "sticker-pack",
  "sticker-pack-thumbnail",
  "link-thumbnail",
  "image-thumbnail",
  "video-thumbnail",
  "document-thumbnail",
  "product-catalog-image"
] as const

/**
 * A media type by its library name.
 *
 * @since 0.1.0
 * @category models
 */
export type MediaType = typeof names[number]

/**
 * The schema of a media type name (library names only; see {@link parse} for aliases).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MediaType: Schema.Literal<typeof names> = Schema.Literal(...names)

/**
 * What a media type fixes on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface MediaTypeInfo {
  readonly name: MediaType
  /** The HKDF info string; `undefined` for a type that is never encrypted. */
  readonly hkdfInfo: string | undefined
  readonly uploadPath: string
  readonly mmsType: string
  readonly encrypted: boolean
}

const encrypted = (name: MediaType, hkdfInfo: string, uploadPath: string, mmsType: string): MediaTypeInfo => ({
  name,
  hkdfInfo,
  uploadPath,
  mmsType,
  encrypted: true
})

const table: { readonly [K in MediaType]: MediaTypeInfo } = {
  image: encrypted("image", "WhatsApp Image Keys", "/mms/image", "image"),
  video: encrypted("video", "WhatsApp Video Keys", "/mms/video", "video"),
  audio: encrypted("audio", "WhatsApp Audio Keys", "/mms/audio", "audio"),
  document: encrypted("document", "WhatsApp Document Keys", "/mms/document", "document"),
  sticker: encrypted("sticker", "WhatsApp Image Keys", "/mms/image", "image"),
  history: encrypted("history", "WhatsApp History Keys", "/mms/md-msg-hist", "md-msg-hist"),
  "app-state": encrypted("app-state", "WhatsApp App State Keys", "/mms/md-app-state", "md-app-state"),
  "sticker-pack": encrypted("sticker-pack", "WhatsApp Sticker Pack Keys", "/mms/sticker-pack", "sticker-pack"),
  "sticker-pack-thumbnail": encrypted(
    "sticker-pack-thumbnail",
    "WhatsApp Sticker Pack Thumbnail Keys",
    "/mms/thumbnail-sticker-pack",
    "thumbnail-sticker-pack"
  ),
  "link-thumbnail": encrypted(
    "link-thumbnail",
    "WhatsApp Link Thumbnail Keys",
    "/mms/thumbnail-link",
    "thumbnail-link"
  ),
  "image-thumbnail": encrypted(
    "image-thumbnail",
    "WhatsApp Image Thumbnail Keys",
    "/mms/thumbnail-image",
    "thumbnail-image"
  ),
  "video-thumbnail": encrypted(
    "video-thumbnail",
    "WhatsApp Video Thumbnail Keys",
    "/mms/thumbnail-video",
    "thumbnail-video"
  ),
  "document-thumbnail": encrypted(
    "document-thumbnail",
    "WhatsApp Document Thumbnail Keys",
    "/mms/thumbnail-document",
    "thumbnail-document"
  ),
  "product-catalog-image": {
    name: "product-catalog-image",
    hkdfInfo: undefined,
    uploadPath: "/product/image",
    mmsType: "product-catalog-image",
    encrypted: false
  }
}

/**
 * Names users expect that stand for a library type: `ptt` is audio; `ptv` and `gif` are video.
 *
 * @since 0.1.0
 * @category models
 */
export const aliases: { readonly [alias: string]: MediaType } = {
  ptt: "audio",
  ptv: "video",
  gif: "video"
}

/**
 * What the wire protocol fixes for a media type.
 *
 * @since 0.1.0
 * @category getters
 */
export const info = (type: MediaType): MediaTypeInfo => table[type]

/**
 * Whether a blob of this type is encrypted (all but `product-catalog-image`).
 *
 * @since 0.1.0
 * @category getters
 */
export const isEncrypted = (type: MediaType): boolean => table[type].encrypted

/**
 * Whether this type carries a streaming sidecar (video and audio).
 *
 * @since 0.1.0
 * @category getters
 */
export const hasStreamingSidecar = (type: MediaType): boolean => type === "video" || type === "audio"

const isName = (name: string): name is MediaType => Object.prototype.hasOwnProperty.call(table, name)

/**
 * Reads a library name or an alias; anything else is an `UnknownMediaType` error.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaType } from "effect-wa-media"
 *
 * const video = MediaType.parse("ptv") // Effect<"video", UnknownMediaType>
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (name: string): Effect.Effect<MediaType, UnknownMediaType> => {
  const key = name.trim().toLowerCase()
  if (isName(key)) return Effect.succeed(key)
  const alias = aliases[key]
  return alias === undefined ? Effect.fail(new UnknownMediaType({ name })) : Effect.succeed(alias)
}

/**
 * The type a server-hosted thumbnail of a message of this type is encrypted under, with the
 * parent's media key. Only image, video and document messages and link previews have one.
 *
 * @since 0.1.0
 * @category getters
 */
export const thumbnailType = (
  parent: MediaType
): "image-thumbnail" | "video-thumbnail" | "document-thumbnail" | undefined => {
  switch (parent) {
    case "image":
      return "image-thumbnail"
    case "video":
      return "video-thumbnail"
    case "document":
      return "document-thumbnail"
    default:
      return undefined
  }
}
