/**
 * The connection a CDN request came on, as the routes need it: which host it reached, and what a
 * socket does that an HTTP response cannot say (break off, stall). The emulator provides it over
 * the Node socket of each request, the fake CDN in memory, as undici would surface it.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"

/** @internal */
export class Connection extends Context.Tag("effect-wa-media/internal/cdn/Connection")<Connection, {
  /** The host of the CDN's list (`127.0.0.1:4100`, `mmg.whatsapp.net`) the request reached. */
  readonly host: string
  /** Breaks the connection off now, without an answer and without reading the rest of the request. */
  readonly reset: Effect.Effect<never>
  /** Ends a response body by cutting the connection once the bytes before it went out. */
  readonly cut: Stream.Stream<never, Error>
  /** Ends a response body by holding the connection open: the headers go out, then nothing. */
  readonly stall: Stream.Stream<never>
}>() {}
