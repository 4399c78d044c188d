/**
 * Albums: the parent `albumMessage` and its children, each associated with the parent's key.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { MediaMessageError } from "../MediaError.js"
import type { Album, AlbumChildMessage, AlbumOptions } from "../MediaMessage.js"
import { type Fields, invalid, isNonEmptyString, isRecord } from "./messageFields.js"

/** `WAProto.MessageAssociation.AssociationType.MEDIA_ALBUM`. @internal */
export const MEDIA_ALBUM = 1

/** @internal */
export const album = <C extends AlbumChildMessage>(
  options: AlbumOptions<C>
): Effect.Effect<Album<C>, MediaMessageError> =>
  Effect.suspend(() => {
    const { children, parentMessageKey } = options
    if (children.length === 0) return Effect.fail(invalid("an album needs at least one child"))
    if (!isNonEmptyString(parentMessageKey.id)) return Effect.fail(invalid("parentMessageKey.id is missing"))
    let expectedImageCount = 0
    let expectedVideoCount = 0
    for (const child of children) {
      const fields = child as Fields
      const isImage = isRecord(fields.imageMessage)
      const isVideo = isRecord(fields.videoMessage)
      if (isImage === isVideo) return Effect.fail(invalid("an album child must hold one image or one video"))
      if (isImage) expectedImageCount++
      else expectedVideoCount++
    }
    return Effect.succeed({
      parent: { albumMessage: { expectedImageCount, expectedVideoCount } },
      children: children.map((child) => ({
        associatedChildMessage: { message: child },
        messageContextInfo: { messageAssociation: { associationType: MEDIA_ALBUM, parentMessageKey } }
      }))
    })
  })
