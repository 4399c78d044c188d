/**
 * Every public error of the library. Each has a `_tag` callers can `catchTag`, a `reason` where one
 * tag covers several causes, and a readable `message` that never carries a secret.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A media key that is not 32 bytes long.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMediaKey extends Schema.TaggedError<InvalidMediaKey>("effect-wa-media/InvalidMediaKey")(
  "InvalidMediaKey",
  { length: Schema.Number }
) {
  override get message(): string {
    return `a media key must be 32 bytes, got ${this.length}`
  }
}

/**
 * A media type name that is neither a library name of PROTOCOL.md section 1 nor an alias.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownMediaType extends Schema.TaggedError<UnknownMediaType>("effect-wa-media/UnknownMediaType")(
  "UnknownMediaType",
  { name: Schema.String }
) {
  override get message(): string {
    return `unknown media type "${this.name}"`
  }
}

/**
 * Which check of a blob failed.
 *
 * @since 0.1.0
 * @category errors
 */
export const IntegrityCheck = Schema.Literal(
  "Mac",
  "Padding",
  "FileSha256",
  "FileEncSha256",
  "FileLength",
  "Truncated"
)

/**
 * @since 0.1.0
 * @category errors
 */
export type IntegrityCheck = typeof IntegrityCheck.Type

const integrityMessages: Record<IntegrityCheck, string> = {
  Mac: "MAC mismatch",
  Padding: "invalid PKCS7 padding",
  FileSha256: "plaintext SHA-256 mismatch",
  FileEncSha256: "blob SHA-256 mismatch",
  FileLength: "plaintext length mismatch",
  Truncated: "truncated input"
}

/**
 * Downloaded or decrypted bytes that failed a check: the MAC, the padding, a hash, the length,
 * or an input that ended too early. Nothing that failed a check is ever handed over as verified.
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaIntegrityError extends Schema.TaggedError<MediaIntegrityError>(
  "effect-wa-media/MediaIntegrityError"
)(
  "MediaIntegrityError",
  { reason: IntegrityCheck, detail: Schema.optional(Schema.String) }
) {
  override get message(): string {
    const base = integrityMessages[this.reason]
    return this.detail === undefined ? base : `${base} (${this.detail})`
  }
}

/**
 * A local file could not be read or written.
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaFileError extends Schema.TaggedError<MediaFileError>("effect-wa-media/MediaFileError")(
  "MediaFileError",
  {
    reason: Schema.Literal("Read", "Write"),
    path: Schema.String,
    detail: Schema.String
  }
) {
  override get message(): string {
    return `cannot ${this.reason === "Read" ? "read" : "write"} ${this.path}: ${this.detail}`
  }
}
