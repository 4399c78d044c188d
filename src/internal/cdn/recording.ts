/**
 * The record of every request a CDN saw (control requests excepted), oldest first, with the `auth`
 * value taken out of the path.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { RecordedRequest } from "../../CdnControl.js"

/** @internal */
export interface Recording {
  readonly add: (request: RecordedRequest) => Effect.Effect<void>
  readonly all: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly clear: Effect.Effect<void>
}

/** @internal */
export const make = (): Recording => {
  const records: Array<RecordedRequest> = []
  return {
    add: (request) =>
      Effect.sync(() => {
        records.push(request)
      }),
    all: Effect.sync(() => records.slice()),
    clear: Effect.sync(() => {
      records.length = 0
    })
  }
}

/** A request's path and query without its `auth` parameter. @internal */
export const redactAuth = (pathAndQuery: string): string => {
  const url = new URL(pathAndQuery, "http://cdn.invalid")
  const params = new URLSearchParams(url.search)
  params.delete("auth")
  const query = params.toString()
  return query === "" ? url.pathname : `${url.pathname}?${query}`
}
