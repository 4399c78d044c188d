/**
 * What tests and tools control on a CDN, the loopback `CdnEmulator` and the in-memory
 * `testing/FakeCdn` alike: injected faults, the record of requests, stored blobs, expiring links
 * and revoked credentials; and `incoming`, media from another sender stored on either, for a bot's
 * tests.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/cdn/faults.js"
import * as incomingInternal from "./internal/incoming.js"
import type * as MediaConn from "./MediaConn.js"
import type { MediaCrypto } from "./MediaCrypto.js"
import type { InvalidMediaKey, MediaMessageError } from "./MediaError.js"
import type { MediaKey } from "./MediaKeys.js"
import type * as MediaMessage from "./MediaMessage.js"

/**
 * A fault to inject at one host. Each applies to the next `times` (default 1) matching requests,
 * uploads and downloads unless `on` says otherwise; queued faults are used in order.
 *
 * - `Status`: answer with that status, touching nothing (an upload's body is read and dropped
 *   first, as a server that refuses it does, so that the client can finish sending).
 * - `Drop`: cut the connection after `afterBytes` body bytes (of the response for a download, of
 *   the request for an upload, whose received part is then held for a resume).
 * - `FlipByte`: flip the byte at `offset` of the body (a download's response, an upload's request).
 * - `Stall`: send the headers and `afterBytes` body bytes (default 0), then nothing; an upload
 *   gets no answer at all.
 * - `IgnoreRange`: answer a ranged download with 200 and the whole blob.
 *
 * @since 0.1.0
 * @category models
 */
export const Fault: typeof internal.Fault = internal.Fault

/**
 * @since 0.1.0
 * @category models
 */
export type Fault = typeof Fault.Type

/**
 * One request the CDN saw: its host, method, kind, path and query without the `auth` value, the
 * status it answered (`undefined` when the connection was cut or stalled before a status), the
 * `Range` header, the body bytes received (upload) or sent (download), and the fault applied.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly host: string
  readonly method: string
  readonly kind: "upload" | "download" | "media_conn" | "other"
  readonly path: string
  readonly status: number | undefined
  readonly range: string | undefined
  readonly bytes: number
  readonly fault: Fault["_tag"] | undefined
}

/**
 * A blob held by the CDN: a fresh signed `directPath`, its full `url`, the token
 * (`base64url(SHA-256)` of the blob) and its length.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredBlob {
  readonly url: string
  readonly directPath: string
  readonly token: string
  readonly length: number
}

/**
 * What tests and tools control on a CDN, the emulator and the fake alike.
 *
 * @since 0.1.0
 * @category models
 */
export interface CdnControl {
  /** Host names (`127.0.0.1:4100`), the primary first. */
  readonly hosts: ReadonlyArray<string>
  /** A media connection for these hosts, with a freshly issued auth token. */
  readonly mediaConn: Effect.Effect<MediaConn.MediaConnJson>
  /** Queues a fault at a host (default: the primary). */
  readonly injectFault: (fault: Fault, options?: { readonly host?: string | undefined }) => Effect.Effect<void>
  /** Queues several faults at a host (default: the primary), to be used in order. */
  readonly injectFaults: (
    faults: ReadonlyArray<Fault>,
    options?: { readonly host?: string | undefined }
  ) => Effect.Effect<void>
  /** Drops the queued faults of one host, or of every host. */
  readonly clearFaults: (host?: string) => Effect.Effect<void>
  /** Every request seen so far, oldest first (control requests excluded). */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly clearRequests: Effect.Effect<void>
  /** Stores a blob as if uploaded to `uploadPath` (default `/mms/image`) and links it. */
  readonly put: <E = never>(
    blob: Uint8Array | Stream.Stream<Uint8Array, E>,
    options?: { readonly uploadPath?: string | undefined; readonly host?: string | undefined }
  ) => Effect.Effect<StoredBlob, E>
  /** Forgets the blob behind a direct path (its downloads then answer 404); whether it existed. */
  readonly remove: (directPath: string) => Effect.Effect<boolean>
  /** Makes every link issued so far expire (downloads answer 410); later links are valid. */
  readonly expireLinks: Effect.Effect<void>
  /** Invalidates every auth token issued so far (uploads answer 401). */
  readonly revokeAuth: Effect.Effect<void>
}

/**
 * The message kinds {@link incoming} builds, with the message each gives.
 *
 * @since 0.1.0
 * @category incoming
 */
export interface IncomingKinds {
  readonly image: MediaMessage.WrappedImage
  readonly video: MediaMessage.WrappedVideo
  readonly ptv: MediaMessage.WrappedPtv
  readonly audio: MediaMessage.WrappedAudio
  readonly document: MediaMessage.WrappedDocument
  readonly sticker: MediaMessage.WrappedSticker
}

/**
 * Options of {@link incoming}: the `kind` of message, the `MediaMessage` builder options of that
 * kind (`caption`, `fileName`, `width`, `ptt`, `contextInfo`, …), and optionally the sender's JID
 * `from` (default `15550001111@s.whatsapp.net`), the message `id` (default a random `3EB0…`), the
 * `mediaKey` (default a fresh one from `MediaCrypto`) and `mediaKeyTimestamp` (default now).
 *
 * @since 0.1.0
 * @category incoming
 */
export type IncomingOptions<K extends keyof IncomingKinds> =
  & { readonly kind: K }
  & {
    readonly image: MediaMessage.ImageOptions
    readonly video: MediaMessage.VideoOptions
    readonly ptv: MediaMessage.PtvOptions
    readonly audio: MediaMessage.AudioOptions
    readonly document: MediaMessage.DocumentOptions
    readonly sticker: MediaMessage.StickerOptions
  }[K]
  & {
    /** The sender's JID. */
    readonly from?: string | undefined
    /** The message id; a random `3EB0…` id by default. */
    readonly id?: string | undefined
    /** The media key; a fresh one from `MediaCrypto` by default. */
    readonly mediaKey?: MediaKey | Uint8Array | undefined
    /** Unix seconds; now by Effect's `Clock` by default. */
    readonly mediaKeyTimestamp?: number | undefined
  }

/**
 * A message as a WhatsApp client receives it from someone else (`WAProto.WebMessageInfo`,
 * camelCase): `key` (`fromMe: false`), the media `message`, and `messageTimestamp` (Unix seconds).
 *
 * @since 0.1.0
 * @category incoming
 */
export interface IncomingMessage<M> {
  readonly key: { readonly remoteJid: string; readonly fromMe: false; readonly id: string }
  readonly message: M
  readonly messageTimestamp: number
}

/**
 * Media sent by someone else, for a bot's tests: encrypts `media` under a media key of its own (as
 * the sender's phone does), stores the blob on the CDN (the `FakeCdn` or the `CdnEmulator`, no
 * upload request), and returns the message that arrives, ready for `MediaDownload` and the
 * `MediaMessage` readers. Video and audio carry their streaming sidecar. Media keys and ids come
 * from the `MediaCrypto` of the context (deterministic with `MediaCrypto.layerTest`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CdnControl, MediaDownload } from "effect-wa-media"
 * import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
 *
 * const program = Effect.gen(function*() {
 *   const cdn = yield* FakeCdn.FakeCdn
 *   const downloads = yield* MediaDownload.MediaDownload
 *   const received = yield* CdnControl.incoming(cdn, new Uint8Array(1000), { kind: "image", caption: "hi" })
 *   // received.key.fromMe === false; received.message.imageMessage: url, directPath, mediaKey, …
 *   return yield* downloads.bytes(received)
 * })
 * ```
 *
 * @since 0.1.0
 * @category incoming
 */
export const incoming = <K extends keyof IncomingKinds>(
  cdn: CdnControl,
  media: Uint8Array,
  options: IncomingOptions<K>
): Effect.Effect<IncomingMessage<IncomingKinds[K]>, InvalidMediaKey | MediaMessageError, MediaCrypto> =>
  Effect.map(incomingInternal.send(cdn, media, options), (sent) => sent.received)
