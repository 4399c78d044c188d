/**
 * Normalisation of the value shapes protobuf.js messages carry once they have travelled: 64-bit
 * integers as number, bigint, `Long` (live or JSON round-tripped) or decimal string; bytes as
 * `Uint8Array`/`Buffer`, base64 (standard or url-safe), a JSON `Buffer` or a JSON `Uint8Array`.
 *
 * @internal
 */
import * as Option from "effect/Option"
import { decodeAny } from "./base64.js"

/** @internal */
export type Fields = { readonly [field: string]: unknown }

/** A plain object (not null, not an array, not bytes). @internal */
export const isRecord = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  && !(value instanceof ArrayBuffer)

const isInt32Like = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff

const safe = (value: number): Option.Option<number> => Number.isSafeInteger(value) ? Option.some(value) : Option.none()

const decimal = /^-?[0-9]+$/

/**
 * A 64-bit protobuf integer as a safe JavaScript integer; `None` when the value is not one (or does
 * not fit in 53 bits).
 *
 * @internal
 */
export const long = (value: unknown): Option.Option<number> => {
  switch (typeof value) {
    case "number":
      return safe(value)
    case "bigint":
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Option.some(Number(value))
        : Option.none()
    case "string":
      return value.length <= 20 && decimal.test(value) ? safe(Number(value)) : Option.none()
    case "object": {
      if (!isRecord(value)) return Option.none()
      const { high, low, unsigned } = value
      if (!isInt32Like(low) || !isInt32Like(high)) return Option.none()
      // A Long keeps both halves as signed 32-bit integers; `unsigned` says how to read the high one.
      const top = unsigned === true ? high >>> 0 : high | 0
      return safe(top * 0x100000000 + (low >>> 0))
    }
    default:
      return Option.none()
  }
}

const fromNumbers = (values: ReadonlyArray<unknown>): Option.Option<Uint8Array> => {
  for (const byte of values) {
    if (typeof byte !== "number" || !Number.isInteger(byte) || byte < 0 || byte > 255) return Option.none()
  }
  return Option.some(Uint8Array.from(values as ReadonlyArray<number>))
}

/**
 * Bytes as a fresh `Uint8Array` (never a `Buffer`, never shared with the input); `None` when the
 * value is not bytes in any known form.
 *
 * @internal
 */
export const bytes = (value: unknown): Option.Option<Uint8Array> => {
  if (value instanceof Uint8Array) return Option.some(new Uint8Array(value))
  if (value instanceof ArrayBuffer) return Option.some(new Uint8Array(value.slice(0)))
  if (typeof value === "string") return decodeAny(value)
  if (Array.isArray(value)) return fromNumbers(value)
  if (!isRecord(value)) return Option.none()
  if (value.type === "Buffer") {
    // `Buffer#toJSON` gives an array of numbers; Baileys' `BufferJSON` gives a base64 string.
    const data = value.data
    if (Array.isArray(data)) return fromNumbers(data)
    if (typeof data === "string") return decodeAny(data)
    return Option.none()
  }
  // `JSON.stringify` of a Uint8Array: `{ "0": 1, "1": 2, … }`.
  const keys = Object.keys(value)
  if (keys.length === 0 || keys.some((key, index) => key !== String(index))) return Option.none()
  return fromNumbers(keys.map((key) => value[key]))
}
