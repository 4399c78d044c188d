/**
 * Signed, expiring links to stored blobs (docs/protocol.md section 6): a direct path carries `oe`,
 * its expiry in hex Unix seconds, and `oh`, an HMAC of path and expiry under the store's secret.
 * The links' clock is Effect's `Clock` (so `TestClock` moves it) plus a skew that `expire` pushes
 * past every expiry issued so far, for tests of expired media.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import type { StoredBlob } from "../../CdnControl.js"
import type { Blob } from "./store.js"
import { toBase64Url } from "./store.js"

// The folder part of a real direct path, by upload path; the id after it is what identifies a blob.
const pathPrefix: Readonly<Record<string, string>> = {
  "/mms/image": "/v/t62.7118-24",
  "/mms/video": "/v/t62.7161-24",
  "/mms/audio": "/v/t62.7114-24",
  "/mms/document": "/v/t62.7119-24",
  "/product/image": "/v/t45.5328-4"
}

/** A request's path and query as the WHATWG URL parser reads it; `undefined` if it cannot. @internal */
export const parseUrl = (pathAndQuery: string): URL | undefined => {
  try {
    return new URL(pathAndQuery, "http://cdn.invalid")
  } catch {
    return undefined
  }
}

/** What a download's signature says: valid, forged or malformed, or past its expiry. @internal */
export type Verdict = "Valid" | "Mismatch" | "Expired"

/** @internal */
export interface Links {
  /** A fresh signed link to a blob at a host. */
  readonly link: (blob: Blob, host: string) => Effect.Effect<StoredBlob>
  /** Checks the `oh`/`oe` of a request for `pathname`. */
  readonly verify: (pathname: string, oh: string | undefined, oe: string | undefined) => Effect.Effect<Verdict>
  /** The blob id a direct path names, if it has the shape of one. */
  readonly idOf: (directPath: string) => string | undefined
  /** Makes every link issued so far expire; links issued later are valid again. */
  readonly expire: Effect.Effect<void>
}

/** @internal */
export const make = (options: {
  readonly secret: Uint8Array
  readonly scheme: "http" | "https"
  readonly ttlSeconds: number
}): Effect.Effect<Links> =>
  Effect.map(Effect.clock, (clock) => {
    let skewSeconds = 0
    const now = Effect.map(clock.currentTimeMillis, (ms) => Math.floor(ms / 1000) + skewSeconds)
    const sign = (pathname: string, oe: string): string =>
      `01_${
        toBase64Url(Crypto.createHmac("sha256", options.secret).update(`${pathname}:${oe}`).digest().subarray(0, 24))
      }`
    return {
      link: (blob, host) =>
        Effect.map(now, (seconds): StoredBlob => {
          const ext = blob.uploadPath === "/product/image" ? "jpg" : "enc"
          const pathname = `${pathPrefix[blob.uploadPath] ?? "/v/t62.7118-24"}/${blob.id}.${ext}`
          const oe = (seconds + options.ttlSeconds).toString(16).toUpperCase()
          const directPath = `${pathname}?ccb=11-4&oh=${sign(pathname, oe)}&oe=${oe}&_nc_sid=5e03e0`
          return {
            url: `${options.scheme}://${host}${directPath}&mms3=true`,
            directPath,
            token: blob.token,
            length: blob.length
          }
        }),
      verify: (pathname, oh, oe) =>
        Effect.suspend(() => {
          if (oh === undefined || oe === undefined || !/^[0-9A-Fa-f]{1,12}$/.test(oe)) return Effect.succeed("Mismatch")
          const expected = Buffer.from(sign(pathname, oe))
          const given = Buffer.from(oh)
          if (expected.length !== given.length || !Crypto.timingSafeEqual(expected, given)) {
            return Effect.succeed("Mismatch")
          }
          return Effect.map(now, (seconds) => parseInt(oe, 16) <= seconds ? "Expired" : "Valid")
        }),
      idOf: (directPath) => {
        const pathname = parseUrl(directPath)?.pathname ?? ""
        return /^\/v\/[^/]+\/([0-9]+_[0-9]+_n)\.(enc|jpg)$/.exec(pathname)?.[1]
      },
      expire: Effect.sync(() => {
        // Moves the links' own clock past every expiry issued so far; new links are valid again.
        skewSeconds += options.ttlSeconds + 1
      })
    }
  })
