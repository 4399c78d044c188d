/**
 * docs/protocol.md section 5: the media connection, i.e. the CDN hosts and the upload credential. This
 * module is its face: the model, its JSON form, the parser of the `<media_conn>` IQ reply, the host
 * order, and the `MediaConn` service: a cache that is valid for `min(ttl, auth_ttl)` seconds
 * (measured with Effect's `Clock`), shares one in-flight fetch between concurrent callers and never
 * caches a failure. Sources read it from the IQ, a Baileys socket, a URL or a file. The code is in
 * `internal/mediaConnModel.ts` (model and parsers), `internal/mediaConnCache.ts` (the service) and
 * `internal/mediaConnSources.ts` (the sources).
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Cache from "./internal/mediaConnCache.js"
import * as Model from "./internal/mediaConnModel.js"
import * as Sources from "./internal/mediaConnSources.js"
import type { MediaConnError } from "./MediaError.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Whether a host is a primary or a fallback host.
 *
 * @since 0.1.0
 * @category models
 */
export const HostType: typeof Model.HostType = Model.HostType

/**
 * @since 0.1.0
 * @category models
 */
export type HostType = typeof HostType.Type

/**
 * One CDN host of a media connection. `hostname` may carry a port (`127.0.0.1:4100`).
 *
 * @since 0.1.0
 * @category models
 */
export const MediaConnHost: typeof Model.MediaConnHost = Model.MediaConnHost

/**
 * @since 0.1.0
 * @category models
 */
export interface MediaConnHost extends Schema.Schema.Type<typeof MediaConnHost> {}

/**
 * A media connection as a source hands it over, before the service stamps the time it was fetched.
 * `ttl` and `authTtl` are in seconds; `auth` is the upload credential, redacted.
 *
 * @since 0.1.0
 * @category models
 */
export const MediaConnReply: typeof Model.MediaConnReply = Model.MediaConnReply

/**
 * @since 0.1.0
 * @category models
 */
export interface MediaConnReply extends Schema.Schema.Type<typeof MediaConnReply> {}

/**
 * A media connection held by the service: a reply plus `fetchedAt`, the epoch milliseconds (from
 * Effect's `Clock`) at which its fetch started.
 *
 * @since 0.1.0
 * @category models
 */
export const MediaConnInfo: typeof Model.MediaConnInfo = Model.MediaConnInfo

/**
 * @since 0.1.0
 * @category models
 */
export interface MediaConnInfo extends Schema.Schema.Type<typeof MediaConnInfo> {}

/**
 * The epoch milliseconds at which a media connection stops being valid:
 * `fetchedAt + min(ttl, authTtl ?? ttl) * 1000`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const expiresAt: (info: MediaConnInfo) => number = Model.expiresAt

/**
 * The host names to try, in order: primary hosts first, then fallback hosts, server order kept
 * within each group, each host's `fallbackHostname` right after it, duplicates dropped.
 *
 * @since 0.1.0
 * @category accessors
 */
export const hostOrder: (info: Pick<MediaConnReply, "hosts">) => ReadonlyArray<string> = Model.hostOrder

// -----------------------------------------------------------------------------
// JSON form
// -----------------------------------------------------------------------------

/**
 * One host in the JSON form (snake_case, as the IQ reply's attributes).
 *
 * @since 0.1.0
 * @category json
 */
export const MediaConnHostJson: typeof Model.MediaConnHostJson = Model.MediaConnHostJson

/**
 * The JSON form of a media connection used by this library's tools (docs/protocol.md section 5):
 * `{ "auth", "ttl", "auth_ttl", "max_buckets", "hosts": [{ "hostname", "type", "fallback_hostname",
 * "ip4", "ip6" }] }`. Optional fields may be missing or `null`.
 *
 * @since 0.1.0
 * @category json
 */
export const MediaConnJson: typeof Model.MediaConnJson = Model.MediaConnJson

/**
 * The JSON object as `encodeJson` produces it (decoding also accepts `null` for a missing field).
 *
 * @since 0.1.0
 * @category json
 */
export type MediaConnJson = typeof MediaConnJson.Type

/**
 * Decodes the JSON form into a `MediaConnReply` and encodes it back. Decoding skips hosts without
 * a usable `hostname`, reads a missing `type` as primary and a missing `ttl` as 0; encoding writes
 * the auth token in clear, as the JSON form carries it.
 *
 * @since 0.1.0
 * @category json
 */
export const MediaConnFromJson: Schema.Schema<MediaConnReply, typeof MediaConnJson.Encoded> = Model.MediaConnFromJson

/**
 * Decodes the JSON form (an already parsed value) into a `MediaConnReply`. Fails with
 * `MediaConnError` `Malformed` when it does not fit, `NoHosts` when no usable host is left.
 * The result is an `Either`, which can also be yielded as an `Effect`.
 *
 * @since 0.1.0
 * @category json
 */
export const decodeJson: (json: unknown) => Either.Either<MediaConnReply, MediaConnError> = Model.decodeJson

/**
 * Decodes the JSON form from text. Text that is not JSON fails with `MediaConnError` `Malformed`
 * (without quoting the text, which may hold the auth token).
 *
 * @since 0.1.0
 * @category json
 */
export const decodeJsonString: (text: string) => Either.Either<MediaConnReply, MediaConnError> = Model.decodeJsonString

/**
 * Encodes a media connection into its JSON form, auth token in clear (`fetchedAt`, if present, is
 * not part of it). For the emulator and the command line tools.
 *
 * @since 0.1.0
 * @category json
 */
export const encodeJson: (info: MediaConnReply) => MediaConnJson = Model.encodeJson

/**
 * `encodeJson` as a JSON string.
 *
 * @since 0.1.0
 * @category json
 */
export const encodeJsonString: (info: MediaConnReply) => string = Model.encodeJsonString

// -----------------------------------------------------------------------------
// IQ reply
// -----------------------------------------------------------------------------

/**
 * A binary node as Baileys-style sockets hand it over.
 *
 * @since 0.1.0
 * @category iq
 */
export interface BinaryNode {
  readonly tag: string
  readonly attrs: { readonly [key: string]: string }
  readonly content?: ReadonlyArray<BinaryNode> | Uint8Array | string | undefined
}

/**
 * Parses the reply to the `<iq xmlns="w:m" type="set"><media_conn/></iq>` query: either the `<iq>`
 * node or its `<media_conn>` child. A missing `media_conn` node, a missing `auth` or a non-numeric
 * `ttl`, `auth_ttl` or `max_buckets` fail with `MediaConnError` `Malformed`; an IQ error reply with
 * `SourceFailed`; no usable host with `NoHosts`. The result is an `Either`, which can also be
 * yielded as an `Effect`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MediaConn } from "effect-wa-media"
 *
 * // `query` sends an IQ over a Baileys socket and returns its reply node
 * declare const query: (node: MediaConn.BinaryNode) => Effect.Effect<MediaConn.BinaryNode>
 *
 * const source = query({
 *   tag: "iq",
 *   attrs: { xmlns: "w:m", type: "set", to: "s.whatsapp.net" },
 *   content: [{ tag: "media_conn", attrs: {} }]
 * }).pipe(Effect.flatMap(MediaConn.fromNode))
 * const layer = MediaConn.layer(source)
 * ```
 *
 * @since 0.1.0
 * @category iq
 */
export const fromNode: (node: BinaryNode) => Either.Either<MediaConnReply, MediaConnError> = Model.fromNode

// -----------------------------------------------------------------------------
// service
// -----------------------------------------------------------------------------

/**
 * The media connection in use, cached until `min(ttl, auth_ttl)` after its fetch started.
 *
 * - `get`: the cached connection, or a fresh one when it expired or was never fetched; concurrent
 *   callers share one in-flight fetch, and a failed fetch is not cached.
 * - `invalidate`: drops the cached connection (an in-flight fetch is kept: it is already fresh).
 * - `refresh`: a fresh connection (after a 401, say): `invalidate` then `get`, sharing an in-flight
 *   fetch if there is one.
 *
 * @since 0.1.0
 * @category tags
 */
export class MediaConn extends Context.Tag("effect-wa-media/MediaConn")<MediaConn, {
  readonly get: Effect.Effect<MediaConnInfo, MediaConnError>
  readonly invalidate: Effect.Effect<void>
  readonly refresh: Effect.Effect<MediaConnInfo, MediaConnError>
}>() {}

/**
 * Builds the service over a source, an effect that fetches a fresh media connection each time it
 * runs (e.g. the IQ query through `fromNode`, `fromUrl`, `fromFile`). Fetches run in the scope of
 * the service, so a caller that is interrupted does not cancel a fetch others are waiting for.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <R>(
  source: Effect.Effect<MediaConnReply, MediaConnError, R>
) => Effect.Effect<MediaConn["Type"], never, R | Scope.Scope> = Cache.make

/**
 * The service over a source, as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R>(
  source: Effect.Effect<MediaConnReply, MediaConnError, R>
): Layer.Layer<MediaConn, never, Exclude<R, Scope.Scope>> => Layer.scoped(MediaConn, make(source))

// -----------------------------------------------------------------------------
// sources
// -----------------------------------------------------------------------------

/**
 * A source that always hands over the same media connection, given as a model or in its JSON form
 * (a JSON form that does not decode makes every `get` fail with `MediaConnError`).
 *
 * @since 0.1.0
 * @category sources
 */
export const fromValue: (input: MediaConnReply | MediaConnJson) => Effect.Effect<MediaConnReply, MediaConnError> =
  Sources.fromValue

/**
 * The service over a fixed media connection, for tests and tools.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (input: MediaConnReply | MediaConnJson): Layer.Layer<MediaConn> => layer(fromValue(input))

/**
 * Options of `fromUrl`.
 *
 * @since 0.1.0
 * @category sources
 */
export interface UrlOptions {
  /** How long the request and its body may take, 30 seconds by default. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A source that GETs the JSON form from a URL with the `HttpClient` of the context; each run asks
 * again (the server hands over a fresh credential each time). A non-2xx status, a transport error or
 * a timeout fail with `MediaConnError` `SourceFailed`, a body that does not decode with `Malformed`.
 *
 * @since 0.1.0
 * @category sources
 */
export const fromUrl: (
  url: string | URL,
  options?: UrlOptions
) => Effect.Effect<MediaConnReply, MediaConnError, HttpClient.HttpClient> = Sources.fromUrl

/**
 * The service over `fromUrl`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerUrl = (
  url: string | URL,
  options?: UrlOptions
): Layer.Layer<MediaConn, never, HttpClient.HttpClient> => layer(fromUrl(url, options))

/**
 * A source that reads the JSON form from a file with the `FileSystem` of the context; each run
 * reads the file again. A file that cannot be read fails with `MediaConnError` `SourceFailed`, one
 * that does not decode with `Malformed`.
 *
 * @since 0.1.0
 * @category sources
 */
export const fromFile: (path: string) => Effect.Effect<MediaConnReply, MediaConnError, FileSystem.FileSystem> =
  Sources.fromFile

/**
 * The service over `fromFile`: refreshing re-reads the file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (path: string): Layer.Layer<MediaConn, never, FileSystem.FileSystem> => layer(fromFile(path))

/**
 * The part of a Baileys socket {@link fromBaileys} uses, typed structurally (no dependency on
 * Baileys): `refreshMediaConn(true)` runs the `<media_conn>` IQ and resolves to
 * `{ auth, ttl, hosts: [{ hostname }] }`.
 *
 * @since 0.1.0
 * @category sources
 */
export interface BaileysSocket {
  refreshMediaConn(forceGet?: boolean): Promise<{
    readonly auth: string
    readonly ttl: number
    readonly hosts: ReadonlyArray<{ readonly hostname: string }>
  }>
}

/**
 * A source over a Baileys socket's `refreshMediaConn`: each run asks the server again (this
 * service does the caching). A rejection fails with `MediaConnError` `SourceFailed`, a reply
 * without a usable host with `NoHosts`.
 *
 * @example
 * ```ts
 * import { MediaConn } from "effect-wa-media"
 *
 * declare const sock: MediaConn.BaileysSocket // makeWASocket(…)
 * const MediaConnLive = MediaConn.layer(MediaConn.fromBaileys(sock))
 * ```
 *
 * @since 0.1.0
 * @category sources
 */
export const fromBaileys: (socket: BaileysSocket) => Effect.Effect<MediaConnReply, MediaConnError> = Sources.fromBaileys
