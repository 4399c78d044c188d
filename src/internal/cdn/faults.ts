/**
 * Faults injected at a host: the `Fault` model (`CdnControl.Fault` is its face), the queues per
 * host they wait in until a matching request takes them, and the byte-stream changes they make.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { RecordedRequest } from "../../CdnControl.js"

const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())

const faultFields = {
  /** How many matching requests this fault answers (default 1). */
  times: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** Which requests it applies to; by default uploads and downloads (never `/media_conn`). */
  on: Schema.optional(Schema.Literal("upload", "download", "media_conn"))
}

/** @internal */
export const Fault = Schema.Union(
  Schema.TaggedStruct("Status", { status: Schema.Int.pipe(Schema.between(200, 599)), ...faultFields }),
  Schema.TaggedStruct("Drop", { afterBytes: NonNegativeInt, ...faultFields }),
  Schema.TaggedStruct("FlipByte", { offset: NonNegativeInt, ...faultFields }),
  Schema.TaggedStruct("Stall", { afterBytes: Schema.optional(NonNegativeInt), ...faultFields }),
  Schema.TaggedStruct("IgnoreRange", faultFields)
)

/** @internal */
export type Fault = typeof Fault.Type

/** What a request is, as faults and the record see it. @internal */
export type RequestKind = RecordedRequest["kind"]

/** The faults queued at each host. @internal */
export interface Faults {
  /** Queues faults at a host (default: the primary), to be used in order. */
  readonly inject: (faults: ReadonlyArray<Fault>, host?: string) => Effect.Effect<void>
  /** Drops the queued faults of one host, or of every host. */
  readonly clear: (host?: string) => Effect.Effect<void>
  /** The first fault queued at `host` that applies to a request of this kind, used once. */
  readonly take: (host: string, kind: RequestKind) => Effect.Effect<Fault | undefined>
}

interface Queued {
  readonly fault: Fault
  left: number
}

/** @internal */
export const make = (primary: string): Faults => {
  const queues = new Map<string, Array<Queued>>()
  return {
    inject: (faults, host = primary) =>
      Effect.sync(() => {
        const queue = queues.get(host) ?? []
        for (const fault of faults) queue.push({ fault, left: fault.times ?? 1 })
        queues.set(host, queue)
      }),
    clear: (host) =>
      Effect.sync(() => {
        if (host === undefined) queues.clear()
        else queues.delete(host)
      }),
    take: (host, kind) =>
      Effect.sync(() => {
        const queue = queues.get(host)
        if (queue === undefined) return undefined
        const index = queue.findIndex(({ fault }) =>
          fault.on === undefined ? kind === "upload" || kind === "download" : fault.on === kind
        )
        if (index < 0) return undefined
        const queued = queue[index]!
        if (--queued.left <= 0) queue.splice(index, 1)
        return queued.fault
      })
  }
}

/** The first `n` bytes of a stream. @internal */
export const takeBytes = <E>(self: Stream.Stream<Uint8Array, E>, n: number): Stream.Stream<Uint8Array, E> =>
  n <= 0 ? Stream.empty : Stream.suspend(() => {
    let left = n
    // One element per chunk, so that the count is checked after each element, not after a batch.
    return self.pipe(
      Stream.rechunk(1),
      Stream.map((chunk) => {
        const out = chunk.length <= left ? chunk : chunk.subarray(0, left)
        left -= out.length
        return out
      }),
      Stream.takeUntil(() => left === 0),
      Stream.filter((chunk) => chunk.length > 0)
    )
  })

/** A stream with the byte at `offset` flipped. @internal */
export const flipByteAt = <E>(self: Stream.Stream<Uint8Array, E>, offset: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let position = 0
    return Stream.map(self, (chunk) => {
      const start = position
      position += chunk.length
      if (offset < start || offset >= position) return chunk
      const copy = Uint8Array.from(chunk)
      copy[offset - start] ^= 0xff
      return copy
    })
  })

/**
 * An upload's body as a fault changes it on the way in: a flipped byte, or cut after `afterBytes`
 * (`cut` says the connection then breaks off).
 *
 * @internal
 */
export const uploadBody = <E>(
  fault: Fault | undefined,
  body: Stream.Stream<Uint8Array, E>,
  contentLength: number
): { readonly body: Stream.Stream<Uint8Array, E>; readonly cut: boolean } => {
  if (fault?._tag === "FlipByte") return { body: flipByteAt(body, fault.offset), cut: false }
  if (fault?._tag === "Drop" && fault.afterBytes < contentLength) {
    return { body: takeBytes(body, fault.afterBytes), cut: true }
  }
  return { body, cut: false }
}

/**
 * A response body as a fault changes it on the way out, and how many of its bytes are sent: cut
 * after `afterBytes` then `cut` (a `Drop`), `afterBytes` then `stall` (a `Stall`), or with a flipped
 * byte. `cut` and `stall` are the transport's: what a socket does that a body cannot say.
 *
 * @internal
 */
export const responseBody = <E, E2>(
  fault: Fault | undefined,
  body: Stream.Stream<Uint8Array, E>,
  length: number,
  endings: { readonly cut: Stream.Stream<never, E2>; readonly stall: Stream.Stream<never, E2> }
): { readonly body: Stream.Stream<Uint8Array, E | E2>; readonly bytes: number } => {
  if (fault?._tag === "Drop" && fault.afterBytes < length) {
    return { body: Stream.concat(takeBytes(body, fault.afterBytes), endings.cut), bytes: fault.afterBytes }
  }
  if (fault?._tag === "Stall") {
    const afterBytes = Math.min(fault.afterBytes ?? 0, length)
    return { body: Stream.concat(takeBytes(body, afterBytes), endings.stall), bytes: afterBytes }
  }
  if (fault?._tag === "FlipByte" && fault.offset < length) {
    return { body: flipByteAt(body, fault.offset), bytes: length }
  }
  return { body, bytes: length }
}
