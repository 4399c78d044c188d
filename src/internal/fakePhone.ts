/**
 * The simulated sender's phone of `testing/FakePhone`: it sends media through a CDN's control side,
 * keeps each blob, and answers `<receipt type="server-error">` nodes as the test asks.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as CdnControl from "../CdnControl.js"
import type { BinaryNode } from "../MediaConn.js"
import { MediaCrypto } from "../MediaCrypto.js"
import type { MediaKey } from "../MediaKeys.js"
import type * as MediaRetry from "../MediaRetry.js"
import type { Answer, FakePhone, Options, ReceivedMessage, ReceivedRequest, SendType } from "../testing/FakePhone.js"
import * as Nodes from "./binaryNode.js"
import { equalBytes } from "./bytes.js"
import * as Incoming from "./incoming.js"
import * as Wire from "./mediaRetry.js"

interface Kept {
  readonly mediaKey: MediaKey
  readonly blob: Uint8Array
  readonly uploadPath: string
}

/** @internal */
export const make = (
  cdn: CdnControl.CdnControl,
  options: Options = {}
): Effect.Effect<FakePhone["Type"], never, MediaCrypto | Scope.Scope> =>
  Effect.gen(function*() {
    const crypto = yield* MediaCrypto
    const jid = options.jid ?? "15550001111@s.whatsapp.net"
    const ownJid = options.ownJid ?? "15550002222@s.whatsapp.net"
    const kept = new Map<string, Kept>()
    const received: Array<ReceivedRequest> = []
    let answer: Answer = options.answer ?? "Reupload"
    // A queue keeps what the phone sent until the bot reads it: its one reader is the bot.
    const outbox = yield* Effect.acquireRelease(Queue.unbounded<BinaryNode>(), Queue.shutdown)

    const sendMedia = Effect.fn("FakePhone.sendMedia")(function*(
      plaintext: Uint8Array,
      sendOptions: { readonly type: SendType; readonly id?: string | undefined }
    ) {
      const sent = yield* Incoming.send(cdn, plaintext, {
        kind: sendOptions.type,
        from: jid,
        id: sendOptions.id,
        mediaKeyTimestamp: 1_700_000_000
      }).pipe(Effect.orDie, Effect.provideService(MediaCrypto, crypto))
      kept.set(sent.received.key.id, { mediaKey: sent.mediaKey, blob: sent.blob, uploadPath: sent.uploadPath })
      return sent.received as ReceivedMessage
    })

    const sealed = (id: string, media: Kept, payload: MediaRetry.NotificationPayload) =>
      Effect.map(crypto.randomBytes(Wire.IV_LENGTH), (iv): BinaryNode => ({
        tag: "encrypt",
        attrs: {},
        content: [
          {
            tag: "enc_p",
            attrs: {},
            content: Wire.seal(Redacted.value(media.mediaKey), id, iv, Wire.encodeNotification(payload))
          },
          { tag: "enc_iv", attrs: {}, content: iv }
        ]
      }))

    const errorNode = (code: number): BinaryNode => ({ tag: "error", attrs: { code: String(code) } })

    // What the phone answers to one receipt, `undefined` for silence.
    const answerTo = (node: BinaryNode, now: Answer): Effect.Effect<BinaryNode | undefined> =>
      Effect.gen(function*() {
        const id = Nodes.attrOf(node, "id")
        if (id === undefined) return undefined
        const media = kept.get(id)
        if (now === "Silence") return undefined
        if (media === undefined || now === "NotOnPhone") return errorNode(Wire.Result.NotFound)
        const encrypt = Nodes.childOf(node, "encrypt")
        const encP = encrypt && Nodes.childOf(encrypt, "enc_p")
        const encIv = encrypt && Nodes.childOf(encrypt, "enc_iv")
        const ciphertext = encP && Nodes.bytesOf(encP)
        const iv = encIv && Nodes.bytesOf(encIv)
        const opened = ciphertext && iv && Wire.open(Redacted.value(media.mediaKey), id, iv, ciphertext)
        const request = opened && Wire.encodeServerErrorReceipt(id)
        const authentic = opened !== undefined && request !== undefined && equalBytes(opened, request)
        if (!authentic) return errorNode(Wire.Result.DecryptionError)
        if (now === "DecryptionError") {
          return yield* sealed(id, media, { stanzaId: id, result: Wire.Result.DecryptionError })
        }
        if (now === "GeneralError") {
          return yield* sealed(id, media, { stanzaId: id, result: Wire.Result.GeneralError })
        }
        const fresh = yield* cdn.put(media.blob, { uploadPath: media.uploadPath })
        return yield* sealed(id, media, { stanzaId: id, directPath: fresh.directPath, result: Wire.Result.Success })
      })

    const sendNode = (node: BinaryNode) =>
      Effect.gen(function*() {
        if (node.tag !== "receipt" || Nodes.attrOf(node, "type") !== "server-error") return
        const now = answer
        received.push({ node, answer: now })
        const content = yield* answerTo(node, now)
        if (content === undefined) return
        const rmr = Nodes.childOf(node, "rmr")
        yield* Queue.offer(outbox, {
          tag: "notification",
          attrs: { id: Nodes.attrOf(node, "id")!, type: "mediaretry", from: ownJid },
          content: [content, ...(rmr === undefined ? [] : [rmr])]
        })
      })

    return {
      jid,
      socket: { ownJid, sendNode, notifications: Stream.fromQueue(outbox) },
      sendMedia,
      answerWith: (next) =>
        Effect.sync(() => {
          answer = next
        }),
      requests: Effect.sync(() => received.slice())
    }
  })
