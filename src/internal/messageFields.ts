/**
 * Reading the fields of message objects as protobuf.js gives them once they have travelled, as
 * `Schema` transformations: bytes from any form (`Uint8Array`/`Buffer`, `ArrayBuffer`, standard
 * or url-safe base64, a JSON `Buffer`, a JSON `Uint8Array`, an array of byte values) and 64-bit
 * lengths from any form (number, bigint, `Long` live or round-tripped, decimal string). Each field
 * schema says what a bad value is in its `message` annotation; {@link decodeField} is the one place
 * a `ParseError` becomes a `MediaMessageError`. The annotations never quote the value: it may be a
 * media key.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { InvalidMediaKey, MediaMessageError } from "../MediaError.js"
import { MEDIA_KEY_LENGTH } from "../MediaKeys.js"
import * as MediaType from "../MediaType.js"
import { decodeAny } from "./base64.js"
import { equalBytes } from "./bytes.js"

/** A message object or one of its contents, as a plain record. @internal */
export type Fields = { readonly [field: string]: unknown }

/** A plain object (not null, not an array, not bytes). @internal */
export const isRecord = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  && !(value instanceof ArrayBuffer)

/** What a value is, for messages that must not quote it. @internal */
export const describe = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : value instanceof Uint8Array ? "bytes" : typeof value

const failWith = (ast: Schema.Schema.Any["ast"], actual: unknown, message: string) =>
  ParseResult.fail(new ParseResult.Type(ast, actual, message))

// ---------------------------------------------------------------------------------------------
// Bytes from any form
// ---------------------------------------------------------------------------------------------

// A fresh copy: a decoded value is never a `Buffer` and never shares memory with the input.
const FromBytes = Schema.transform(Schema.Uint8ArrayFromSelf, Schema.Uint8ArrayFromSelf, {
  strict: true,
  decode: (bytes) => new Uint8Array(bytes),
  encode: identity
})

const FromArrayBuffer = Schema.transform(Schema.instanceOf(ArrayBuffer), Schema.Uint8ArrayFromSelf, {
  strict: true,
  decode: (buffer) => new Uint8Array(buffer.slice(0)),
  encode: (bytes) => new Uint8Array(bytes).buffer
})

// Strict: an invalid character, a misplaced `=` or an impossible length is refused (internal/base64.ts).
const FromBase64 = Schema.transformOrFail(Schema.String, Schema.Uint8ArrayFromSelf, {
  strict: true,
  decode: (text, _, ast) =>
    Option.match(decodeAny(text), {
      onNone: () => failWith(ast, text, "not base64"),
      onSome: ParseResult.succeed
    }),
  encode: (bytes) => ParseResult.succeed(Encoding.encodeBase64(bytes))
})

const ByteValues = Schema.Array(Schema.Int.pipe(Schema.between(0, 255)))

const FromByteValues = Schema.transform(ByteValues, Schema.Uint8ArrayFromSelf, {
  strict: true,
  decode: (values) => Uint8Array.from(values),
  encode: (bytes) => Array.from(bytes)
})

// `Buffer#toJSON` gives an array of numbers; Baileys' `BufferJSON` gives a base64 string.
const FromJsonBuffer = Schema.transform(
  Schema.Struct({ type: Schema.Literal("Buffer"), data: Schema.Union(FromByteValues, FromBase64) }),
  Schema.Uint8ArrayFromSelf,
  {
    strict: true,
    decode: ({ data }) => data,
    encode: (bytes) => ({ type: "Buffer" as const, data: bytes })
  }
)

// `JSON.stringify` of a Uint8Array: `{ "0": 1, "1": 2, … }`.
const FromJsonUint8Array = Schema.transformOrFail(
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  Schema.Uint8ArrayFromSelf,
  {
    strict: true,
    decode: (record, _, ast) => {
      const keys = Object.keys(record)
      if (keys.length === 0 || keys.some((key, index) => key !== String(index))) {
        return failWith(ast, record, "not a JSON Uint8Array")
      }
      return ParseResult.mapError(
        ParseResult.decodeUnknown(FromByteValues)(keys.map((key) => record[key])),
        (issue) => new ParseResult.Type(ast, record, issue._tag)
      )
    },
    encode: (bytes) => ParseResult.succeed(Object.fromEntries(Array.from(bytes, (byte, index) => [index, byte])))
  }
)

/**
 * Bytes in any form a message field arrives in, as a fresh `Uint8Array`.
 *
 * @internal
 */
export const Bytes = Schema.Union(
  FromBytes,
  FromArrayBuffer,
  FromBase64,
  FromByteValues,
  FromJsonBuffer,
  FromJsonUint8Array
).annotations({
  identifier: "Bytes",
  message: (issue) => ({ message: `is not bytes (got ${describe(issue.actual)})`, override: true })
})

// ---------------------------------------------------------------------------------------------
// 64-bit integers from any form
// ---------------------------------------------------------------------------------------------

const safe = (ast: Schema.Schema.Any["ast"], actual: unknown, value: number) =>
  Number.isSafeInteger(value) ? ParseResult.succeed(value) : failWith(ast, actual, "not a safe integer")

const FromNumber = Schema.Number.pipe(Schema.filter((value) => Number.isSafeInteger(value)))

const FromBigInt = Schema.transformOrFail(Schema.BigIntFromSelf, Schema.Number, {
  strict: true,
  decode: (value, _, ast) =>
    value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? ParseResult.succeed(Number(value))
      : failWith(ast, value, "not a safe integer"),
  encode: (value) => ParseResult.succeed(BigInt(value))
})

const decimal = /^-?[0-9]+$/

const FromDecimal = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (text, _, ast) =>
    text.length <= 20 && decimal.test(text) ? safe(ast, text, Number(text)) : failWith(ast, text, "not decimal"),
  encode: (value) => ParseResult.succeed(String(value))
})

// A Long keeps both halves as 32-bit integers (signed, or read as unsigned: both appear).
const Int32Like = Schema.Number.pipe(
  Schema.filter((value) => Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff)
)

const FromLong = Schema.transformOrFail(
  Schema.Struct({ low: Int32Like, high: Int32Like, unsigned: Schema.optional(Schema.Unknown) }),
  Schema.Number,
  {
    strict: true,
    decode: (long, _, ast) => {
      // `unsigned` says how to read the high half.
      const top = long.unsigned === true ? long.high >>> 0 : long.high | 0
      return safe(ast, long, top * 0x100000000 + (long.low >>> 0))
    },
    encode: (value) =>
      ParseResult.succeed({ low: value | 0, high: Math.floor(value / 0x100000000) | 0, unsigned: false })
  }
)

/**
 * A protobuf 64-bit integer in any form as a safe JavaScript integer.
 *
 * @internal
 */
export const Int64 = Schema.Union(FromNumber, FromBigInt, FromDecimal, FromLong).annotations({ identifier: "Int64" })

// ---------------------------------------------------------------------------------------------
// Field schemas: a value as it arrives, to what the library keeps (`undefined` for "unset")
// ---------------------------------------------------------------------------------------------

const overriding = (message: string) => () => ({ message, override: true })

// protobuf.js and JSON exports with defaults write `""` and empty bytes for unset fields.
const unsetWhen = <A, I>(schema: Schema.Schema<A, I>, isUnset: (value: A) => boolean) =>
  Schema.transformOrFail(schema, Schema.UndefinedOr(Schema.typeSchema(schema)), {
    strict: true,
    decode: (value) => ParseResult.succeed(isUnset(value) ? undefined : value),
    encode: (value, _, ast) =>
      value === undefined
        ? ParseResult.fail(new ParseResult.Forbidden(ast, value, "unset"))
        : ParseResult.succeed(value)
  })

/** A string field. @internal */
export const Text = unsetWhen(
  Schema.String.annotations({ message: overriding("must be a string") }),
  (text) => text === ""
)

/** A `directPath`-like field: a path starting with `/`. @internal */
export const DirectPath = Text.pipe(
  Schema.filter((path) => path === undefined || path.startsWith("/"), {
    message: () => `must be a path starting with "/"`
  })
)

/** A bytes field, in any form. @internal */
export const BytesField = unsetWhen(Bytes, (bytes) => bytes.length === 0)

/** The SHA-256 length. @internal */
export const SHA256_LENGTH = 32

/** A SHA-256 field: bytes of exactly 32 bytes. @internal */
export const Hash = BytesField.pipe(
  Schema.filter((bytes) => bytes === undefined || bytes.length === SHA256_LENGTH, {
    message: (issue) => `must be ${SHA256_LENGTH} bytes, got ${(issue.actual as Uint8Array).length}`
  })
)

/** A length or a count (`fileLength`, `seconds`, `width`, …) in any 64-bit form, not negative. @internal */
export const Count = Int64.pipe(
  Schema.filter((value) => value >= 0),
  Schema.annotations({ message: overriding("must be a non-negative integer") })
)

/** A boolean field. @internal */
export const Flag = Schema.Boolean.annotations({ message: overriding("must be a boolean") })

/** The schema of one message field, whatever it reads to. @internal */
export type FieldSchema = Schema.Schema<any, any>

/**
 * Reads one field of a message content: `null` and absent are unset; a bad value is a
 * `MediaMessageError` (`InvalidField`) naming the field. The one translation of the field schemas'
 * `ParseError`s.
 *
 * @internal
 */
export const decodeField = <A, I>(
  schema: Schema.Schema<A, I>,
  content: Fields,
  field: string
): Either.Either<A | undefined, MediaMessageError> => {
  const value = content[field]
  if (value == null) return Either.right(undefined)
  return Either.mapLeft(Schema.decodeUnknownEither(schema)(value), (error) => {
    // Decoding stops at the first issue: its message is the annotation of the schema that refused.
    const messages = ParseResult.ArrayFormatter.formatIssueSync(error.issue).map((issue) => issue.message)
    return new MediaMessageError({ reason: "InvalidField", detail: `${field} ${messages.join("; ")}` })
  })
}

// ---------------------------------------------------------------------------------------------
// Readers of the fields every media content has
// ---------------------------------------------------------------------------------------------

/** What reading a message fails with. @internal */
export type ReadError = MediaMessageError | InvalidMediaKey

/** @internal */
export const noMedia = (detail: string) => new MediaMessageError({ reason: "NoMedia", detail })

/** @internal */
export const invalid = (detail: string) => new MediaMessageError({ reason: "InvalidField", detail })

/** @internal */
export const readString = (content: Fields, field: string) => decodeField(Text, content, field)

/** @internal */
export const readDirectPath = (content: Fields, field: string) => decodeField(DirectPath, content, field)

/** @internal */
export const readHash = (content: Fields, field: string) => decodeField(Hash, content, field)

/** @internal */
export const readCount = (content: Fields, field: string) => decodeField(Count, content, field)

/**
 * The `mediaKey` of a content (raw, in any bytes form, or `Redacted`): unset, or 32 bytes of a type
 * that is encrypted; another length is an `InvalidMediaKey`.
 *
 * @internal
 */
export const readMediaKey = (
  content: Fields,
  mediaType: MediaType.MediaType
): Either.Either<Uint8Array | undefined, ReadError> => {
  const value = content.mediaKey
  const unwrapped = Redacted.isRedacted(value) ? { mediaKey: Redacted.value(value) } : content
  return Either.flatMap(
    decodeField(BytesField, unwrapped, "mediaKey"),
    (key): Either.Either<Uint8Array | undefined, ReadError> => {
      if (key === undefined) return Either.right(undefined)
      if (!MediaType.isEncrypted(mediaType)) {
        return Either.left(invalid(`${mediaType} media is never encrypted, but the message has a mediaKey`))
      }
      return key.length === MEDIA_KEY_LENGTH
        ? Either.right(key)
        : Either.left(new InvalidMediaKey({ length: key.length }))
    }
  )
}

/** Only a full https URL is kept as a download candidate; anything else is ignored. @internal */
export const httpsUrl = (value: unknown): string | undefined => {
  if (typeof value !== "string") return undefined
  try {
    const url = new URL(value)
    return url.protocol === "https:" && url.hostname !== "" ? value : undefined
  } catch {
    return undefined
  }
}

/** @internal */
export const isNonEmptyString = (value: unknown): value is string => typeof value === "string" && value.length > 0

/** The fields that are set. @internal */
export const defined = <A extends object>(fields: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof A]?: Exclude<A[K], undefined>
  }

/** Whether two media keys are the same (in constant time); two unset keys are. @internal */
export const sameKey = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === undefined || b === undefined ? a === b : equalBytes(a, b)
