/**
 * Media as another sender's phone sends it: encrypted under a key of its own, stored on a CDN's
 * control side (no upload request), and the message that arrives built by the `MediaMessage`
 * builders. `CdnControl.incoming` and `testing/FakePhone` both send through here.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { CdnControl, IncomingKinds, IncomingMessage, IncomingOptions } from "../CdnControl.js"
import { MediaCrypto } from "../MediaCrypto.js"
import * as MediaEncryptor from "../MediaEncryptor.js"
import type { InvalidMediaKey, MediaMessageError } from "../MediaError.js"
import type { MediaKey } from "../MediaKeys.js"
import * as MediaKeys from "../MediaKeys.js"
import * as MediaMessage from "../MediaMessage.js"
import * as MediaType from "../MediaType.js"

/** What was sent, with what the sender keeps of it. @internal */
export interface Sent<M> {
  readonly received: IncomingMessage<M>
  readonly mediaKey: MediaKey
  readonly blob: Uint8Array
  readonly uploadPath: string
}

/** @internal */
export const defaultSender = "15550001111@s.whatsapp.net"

// The builder options of a kind are the second parameter of its `MediaMessage` builder.
type BuilderOptions<K extends keyof IncomingKinds> = Parameters<(typeof MediaMessage)[K]>[1]

type Builder<K extends keyof IncomingKinds> = (
  media: MediaMessage.UploadedMedia,
  options: BuilderOptions<K>
) => Effect.Effect<IncomingKinds[K], MediaMessageError>

const builders: { readonly [K in keyof IncomingKinds]: Builder<K> } = {
  image: MediaMessage.image,
  video: MediaMessage.video,
  ptv: MediaMessage.ptv,
  audio: MediaMessage.audio,
  document: MediaMessage.document,
  sticker: MediaMessage.sticker
}

/** @internal */
export const send = <K extends keyof IncomingKinds>(
  cdn: CdnControl,
  plaintext: Uint8Array,
  options: IncomingOptions<K>
): Effect.Effect<Sent<IncomingKinds[K]>, InvalidMediaKey | MediaMessageError, MediaCrypto> =>
  Effect.gen(function*() {
    const { from, id, kind, mediaKey: givenKey, mediaKeyTimestamp, ...builderOptions } = options
    const mediaType: MediaType.MediaType = kind === "ptv" ? "video" : kind
    const crypto = yield* MediaCrypto
    const mediaKey = givenKey === undefined
      ? yield* crypto.generateMediaKey
      : yield* MediaKeys.fromBytes(Redacted.isRedacted(givenKey) ? Redacted.value(givenKey) : givenKey)
    const messageId = id ?? `3EB0${Buffer.from(yield* crypto.randomBytes(8)).toString("hex").toUpperCase()}`
    const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType, mediaKey })
    const uploadPath = MediaType.info(mediaType).uploadPath
    const stored = yield* cdn.put(blob, { uploadPath })
    const now = mediaKeyTimestamp ?? Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const build = builders[kind] as Builder<K>
    const message = yield* build({
      mediaType,
      url: stored.url,
      directPath: stored.directPath,
      mediaKey,
      fileSha256: result.fileSha256,
      fileEncSha256: result.fileEncSha256,
      fileLength: result.fileLength,
      mediaKeyTimestamp: now,
      ...(result.streamingSidecar === undefined ? {} : { streamingSidecar: result.streamingSidecar })
    }, builderOptions as unknown as BuilderOptions<K>)
    return {
      received: {
        key: { remoteJid: from ?? defaultSender, fromMe: false, id: messageId },
        message,
        messageTimestamp: now
      },
      mediaKey,
      blob,
      uploadPath
    }
  })
