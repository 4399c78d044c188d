/**
 * A simulated sender's phone for tests of expired media (PROTOCOL.md section 9), over any CDN
 * that has a `CdnControl` (the in-memory `testing/FakeCdn` or the loopback `CdnEmulator`).
 *
 * `sendMedia` encrypts and uploads media as the sender's WhatsApp would and returns the message the
 * bot receives; the phone keeps the blob. Its `socket` is what `MediaRetry.layer` takes: a
 * `<receipt type="server-error">` sent to it is opened with the media key of the message it names
 * and answered, as `answerWith` says, with a fresh upload of the kept blob (`Reupload`), an
 * `<error code="2">` (`NotOnPhone`), a sealed result 3 (`DecryptionError`), a sealed result 0
 * (`GeneralError`), or nothing (`Silence`). A request that does not open under the media key is
 * answered with `<error code="3">`. Make links expire with the CDN's `expireLinks` or
 * `remove`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as CdnControl from "../CdnControl.js"
import * as internal from "../internal/fakePhone.js"
import type { BinaryNode } from "../MediaConn.js"
import type { MediaCrypto } from "../MediaCrypto.js"
import type * as MediaMessage from "../MediaMessage.js"
import * as MediaRetry from "../MediaRetry.js"
import { FakeCdn } from "./FakeCdn.js"

/**
 * How the phone answers the next requests.
 *
 * @since 0.1.0
 * @category models
 */
export type Answer = "Reupload" | "NotOnPhone" | "DecryptionError" | "GeneralError" | "Silence"

/**
 * The media types `sendMedia` sends, one per message kind.
 *
 * @since 0.1.0
 * @category models
 */
export type SendType = "image" | "video" | "audio" | "document" | "sticker"

/**
 * A message as the bot receives it: `{ key, message: { imageMessage: … } }`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceivedMessage {
  readonly key: {
    readonly remoteJid: string
    readonly fromMe: boolean
    readonly id: string
  }
  readonly message: MediaMessage.MediaContentMessage
}

/**
 * One request the phone received and what it answered.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceivedRequest {
  readonly node: BinaryNode
  readonly answer: Answer
}

/**
 * @since 0.1.0
 * @category tags
 */
export class FakePhone extends Context.Tag("effect-wa-media/testing/FakePhone")<FakePhone, {
  /** The phone's JID, the `remoteJid` of the messages it sends. */
  readonly jid: string
  /** The socket primitives of the bot that talks to this phone, for `MediaRetry.layer`. */
  readonly socket: MediaRetry.Socket
  /** Encrypts, uploads and keeps media; returns the message the bot receives. */
  readonly sendMedia: (
    plaintext: Uint8Array,
    options: { readonly type: SendType; readonly id?: string | undefined }
  ) => Effect.Effect<ReceivedMessage>
  /** How the next requests are answered (default: as the options said, `Reupload` unless given). */
  readonly answerWith: (answer: Answer) => Effect.Effect<void>
  /** Every request received so far, oldest first. */
  readonly requests: Effect.Effect<ReadonlyArray<ReceivedRequest>>
}>() {}

/**
 * Options of the phone. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The first answer. Default `Reupload`. */
  readonly answer?: Answer | undefined
  /** The phone's JID. Default `15550001111@s.whatsapp.net`. */
  readonly jid?: string | undefined
  /** The bot's own JID. Default `15550002222@s.whatsapp.net`. */
  readonly ownJid?: string | undefined
}

/**
 * Builds a phone that uploads to and re-uploads through a CDN's control side. Media keys, IVs and
 * message ids come from the `MediaCrypto` of the context (deterministic with its test layer).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  cdn: CdnControl.CdnControl,
  options?: Options
) => Effect.Effect<FakePhone["Type"], never, MediaCrypto | Scope.Scope> = internal.make

/**
 * A phone over the `FakeCdn` of the context, and the `MediaRetry` service of a bot that talks to
 * it (so downloads re-request expired media from it by themselves).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { MediaCrypto, MediaDownload } from "effect-wa-media"
 * import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
 * import * as FakePhone from "effect-wa-media/testing/FakePhone"
 *
 * const TestWorld = MediaDownload.layer.pipe(
 *   Layer.provideMerge(FakePhone.layer()),
 *   Layer.provideMerge(FakeCdn.layerWithMediaConn()),
 *   Layer.provideMerge(MediaCrypto.layerTest())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options & MediaRetry.Options = {}
): Layer.Layer<FakePhone | MediaRetry.MediaRetry, never, FakeCdn | MediaCrypto> => layerFor(FakeCdn, options)

/**
 * {@link layer} over the CDN control service of another tag, e.g. `CdnEmulator.CdnEmulator`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { CdnEmulator } from "effect-wa-media/CdnEmulator"
 * import * as FakePhone from "effect-wa-media/testing/FakePhone"
 *
 * const PhoneLive = FakePhone.layerFor(CdnEmulator)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFor = <I, S extends CdnControl.CdnControl>(
  tag: Context.Tag<I, S>,
  options: Options & MediaRetry.Options = {}
): Layer.Layer<FakePhone | MediaRetry.MediaRetry, never, I | MediaCrypto> =>
  Layer.scopedContext(Effect.gen(function*() {
    const phone = yield* make(yield* tag, options)
    const retry = yield* MediaRetry.make(phone.socket, options)
    return Context.make(FakePhone, phone).pipe(Context.add(MediaRetry.MediaRetry, retry))
  }))
