/**
 * The CDN's media connections (docs/protocol.md section 5): each hands out a fresh auth token, valid
 * for `auth_ttl` seconds of Effect's `Clock` until revoked, and the hosts, primary first.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import type { MediaConnJson } from "../../MediaConn.js"

/** @internal */
export interface MediaConns {
  /** A media connection with a freshly issued auth token. */
  readonly issue: Effect.Effect<MediaConnJson>
  /** Whether an upload's `auth` is one issued, unexpired and not revoked. */
  readonly valid: (auth: string | undefined) => Effect.Effect<boolean>
  /** Invalidates every auth token issued so far. */
  readonly revoke: Effect.Effect<void>
}

/** @internal */
export const make = (options: {
  readonly hosts: ReadonlyArray<string>
  readonly tokenTtlSeconds: number
  readonly ttlSeconds: number
}): Effect.Effect<MediaConns> =>
  Effect.map(Effect.clock, (clock) => {
    const { hosts, tokenTtlSeconds } = options
    const tokens = new Map<string, number>() // auth -> expiry (ms)
    return {
      issue: Effect.map(clock.currentTimeMillis, (now): MediaConnJson => {
        const auth = Crypto.randomBytes(24).toString("base64")
        for (const [token, expiry] of tokens) if (expiry <= now) tokens.delete(token)
        tokens.set(auth, now + tokenTtlSeconds * 1000)
        return {
          auth,
          ttl: options.ttlSeconds,
          auth_ttl: tokenTtlSeconds,
          max_buckets: 12,
          hosts: hosts.map((hostname, i) =>
            i === 0
              ? (hosts.length > 1
                ? { hostname, type: "primary" as const, fallback_hostname: hosts[1]! }
                : { hostname, type: "primary" as const })
              : { hostname, type: "fallback" as const }
          )
        }
      }),
      valid: (auth) =>
        Effect.map(clock.currentTimeMillis, (now) => {
          if (auth === undefined) return false
          const expiry = tokens.get(auth)
          return expiry !== undefined && now < expiry
        }),
      revoke: Effect.sync(() => tokens.clear())
    }
  })
