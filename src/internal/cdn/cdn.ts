/**
 * The CDN world behind the emulator and the fake `HttpClient`: a blob store (memory or folder),
 * signed expiring links, media connections with rotating auth tokens, faults per host and a record
 * of every request, answered over HTTP by one router (docs/protocol.md sections 5-7) and
 * controlled by tests and tools through `CdnControl`.
 *
 * @internal
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { CdnControl, StoredBlob } from "../../CdnControl.js"
import type { Connection } from "./connection.js"
import * as Faults from "./faults.js"
import * as Links from "./links.js"
import * as MediaConns from "./mediaConn.js"
import * as Recording from "./recording.js"
import * as Router from "./router.js"
import * as Store from "./store.js"

/** @internal */
export interface Options {
  readonly hosts: ReadonlyArray<string>
  readonly scheme: "http" | "https"
  readonly dir?: string | undefined
  readonly tokenTtlSeconds?: number | undefined
  readonly linkTtlSeconds?: number | undefined
  readonly mediaConnTtlSeconds?: number | undefined
}

/** A CDN: what tests and tools control, and the HTTP app both transports serve. @internal */
export interface Cdn {
  readonly control: CdnControl
  readonly app: HttpApp.Default<never, Connection>
}

/** @internal */
export const make = (options: Options): Effect.Effect<Cdn> =>
  Effect.gen(function*() {
    const hosts = options.hosts
    if (hosts.length === 0) return yield* Effect.dieMessage("a CDN needs at least one host")
    const tokenTtlSeconds = options.tokenTtlSeconds ?? 21600
    const store = yield* Store.make(options.dir)
    const links = yield* Links.make({
      secret: store.secret,
      scheme: options.scheme,
      ttlSeconds: options.linkTtlSeconds ?? 14 * 24 * 3600
    })
    const mediaConns = yield* MediaConns.make({
      hosts,
      tokenTtlSeconds,
      ttlSeconds: options.mediaConnTtlSeconds ?? 300
    })
    const faults = Faults.make(hosts[0]!)
    const recording = Recording.make()
    const app = yield* Router.make({ store, links, mediaConns, faults, recording })

    const put = <E>(
      blob: Uint8Array | Stream.Stream<Uint8Array, E>,
      putOptions?: { readonly uploadPath?: string | undefined; readonly host?: string | undefined }
    ): Effect.Effect<StoredBlob, E> =>
      Effect.gen(function*() {
        const uploadPath = putOptions?.uploadPath ?? "/mms/image"
        if (!Router.uploadPaths.has(uploadPath)) return yield* Effect.dieMessage(`unknown upload path ${uploadPath}`)
        const partial = yield* store.partial(blob instanceof Uint8Array ? blob.length : 64 * 1024)
        const body: Stream.Stream<Uint8Array, E> = blob instanceof Uint8Array
          ? Store.slices(blob, 0, blob.length)
          : blob
        yield* Stream.runForEachChunk(body, partial.write).pipe(
          Effect.ensuring(partial.close),
          Effect.tapErrorCause(() => partial.discard)
        )
        const token = Store.toBase64Url(partial.hash.copy().digest())
        const stored = yield* store.commit(partial, token, uploadPath)
        return yield* links.link(stored, putOptions?.host ?? hosts[0]!)
      })

    const remove = (directPath: string) =>
      Effect.suspend(() => {
        const id = links.idOf(directPath)
        const blob = id === undefined ? undefined : store.byId(id)
        return blob === undefined ? Effect.succeed(false) : Effect.as(store.remove(blob), true)
      })

    const control: CdnControl = {
      hosts,
      mediaConn: mediaConns.issue,
      injectFault: (fault, injectOptions) => faults.inject([fault], injectOptions?.host),
      injectFaults: (list, injectOptions) => faults.inject(list, injectOptions?.host),
      clearFaults: faults.clear,
      requests: recording.all,
      clearRequests: recording.clear,
      put,
      remove,
      expireLinks: links.expire,
      revokeAuth: mediaConns.revoke
    }
    return { control, app }
  })
