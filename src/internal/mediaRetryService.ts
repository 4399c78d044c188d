/**
 * The `MediaRetry` service: over socket primitives (send a node, incoming nodes as a stream or a
 * callback) and over a Baileys socket's `updateMediaMessage`, both with a timeout on Effect's `Clock`.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { MediaRetryReason } from "../MediaError.js"
import { MediaRetryError } from "../MediaError.js"
import * as MediaMessage from "../MediaMessage.js"
import type { BaileysSocket, MediaRetry, Notification, Options, Request, Socket } from "../MediaRetry.js"
import * as Wire from "./mediaRetry.js"

const DEFAULT_TIMEOUT = Duration.seconds(30)

const timeoutOf = (options: Options | undefined): Duration.Duration =>
  Duration.decode(options?.timeout ?? DEFAULT_TIMEOUT)

const describeCause = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : "unknown error"

const withTimeout =
  (timeout: Duration.Duration, messageId: string) =>
  <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E | MediaRetryError> =>
    Effect.timeoutFail(effect, {
      duration: timeout,
      onTimeout: () =>
        new MediaRetryError({
          reason: "Timeout",
          messageId,
          detail: `no notification within ${Duration.format(timeout)}`
        })
    })

type Waiter = Deferred.Deferred<Notification, MediaRetryError>

/** @internal */
export const make = (socket: Socket, options?: Options): Effect.Effect<MediaRetry["Type"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const timeout = timeoutOf(options)
    const waiters = new Map<string, Set<Waiter>>()

    // Synchronous, so that a callback subscription is in place before `make` returns.
    const deliver = (node: unknown): void => {
      if (!Wire.isRetryNotification(node)) return
      const parsed = Wire.parseNotification(node)
      const id = Either.isRight(parsed) ? parsed.right.messageId : parsed.left.messageId
      const waiting = id === undefined ? undefined : waiters.get(id)
      if (waiting === undefined) return
      const exit = Either.isRight(parsed) ? Exit.succeed(parsed.right) : Exit.fail(parsed.left)
      for (const waiter of waiting) Deferred.unsafeDone(waiter, exit)
    }

    const notifications = socket.notifications
    if (typeof notifications === "function") {
      yield* Effect.acquireRelease(Effect.sync(() => notifications(deliver)), (unsubscribe) => Effect.sync(unsubscribe))
    } else {
      yield* notifications.pipe(
        Stream.runForEach((node) => Effect.sync(() => deliver(node))),
        Effect.catchAllCause((cause) => Effect.logWarning("MediaRetry: the notification stream failed", cause)),
        Effect.forkScoped
      )
    }

    const waitFor = (id: string) =>
      Effect.acquireRelease(
        Effect.tap(Deferred.make<Notification, MediaRetryError>(), (waiter) =>
          Effect.sync(() => {
            const set = waiters.get(id) ?? new Set<Waiter>()
            set.add(waiter)
            waiters.set(id, set)
          })),
        (waiter) =>
          Effect.sync(() => {
            const set = waiters.get(id)
            set?.delete(waiter)
            if (set?.size === 0) waiters.delete(id)
          })
      )

    const reupload = Effect.fn("MediaRetry.reupload")(function*(request: Request) {
      const node = yield* Wire.requestNode({ key: request.key, ownJid: socket.ownJid, mediaKey: request.mediaKey })
      const messageId = node.attrs.id!
      yield* Effect.annotateCurrentSpan("messageId", messageId)
      return yield* Effect.scoped(Effect.gen(function*() {
        const waiter = yield* waitFor(messageId)
        yield* socket.sendNode(node).pipe(
          Effect.mapError((error) =>
            new MediaRetryError({ reason: "SendFailed", messageId, detail: describeCause(error) })
          )
        )
        const notification = yield* withTimeout(timeout, messageId)(Deferred.await(waiter))
        return yield* Wire.openNotification(notification, request.mediaKey)
      }))
    })

    return { reupload }
  })

const baileysReason = (error: unknown): MediaRetryReason => {
  const status = (error as { readonly output?: { readonly statusCode?: unknown } } | null)?.output?.statusCode
  return status === 404 ? "NotOnPhone" : status === 412 ? "DecryptionError" : "GeneralError"
}

/** @internal */
export const fromBaileys = (socket: BaileysSocket, options?: Options): MediaRetry["Type"] => {
  const timeout = timeoutOf(options)
  return {
    reupload: Effect.fn("MediaRetry.reupload")(function*(request: Request) {
      const messageId = yield* Wire.messageIdOf(request.key)
      yield* Wire.keyBytes(request.mediaKey)
      if (request.message === undefined || request.message === null) {
        return yield* new MediaRetryError({
          reason: "BadInput",
          messageId,
          detail: "the Baileys adapter needs the message itself"
        })
      }
      const original = request.message
      const message = yield* Effect.try({
        try: () => structuredClone(original),
        catch: () => new MediaRetryError({ reason: "BadInput", messageId, detail: "the message cannot be copied" })
      })
      const updated = yield* Effect.tryPromise({
        try: () => socket.updateMediaMessage({ key: request.key, message }),
        catch: (error) => new MediaRetryError({ reason: baileysReason(error), messageId, detail: describeCause(error) })
      }).pipe(withTimeout(timeout, messageId))
      const media = yield* MediaMessage.downloadable(updated).pipe(
        Effect.mapError((error) =>
          new MediaRetryError({
            reason: "BadInput",
            messageId,
            detail: `updateMediaMessage returned: ${error.message}`
          })
        )
      )
      if (media.directPath === undefined) {
        return yield* new MediaRetryError({
          reason: "BadInput",
          messageId,
          detail: "the updated message has no directPath"
        })
      }
      return { messageId, directPath: media.directPath }
    })
  }
}
