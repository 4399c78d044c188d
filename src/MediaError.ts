/**
 * Every public error of the library. Each has a `_tag` callers can `catchTag`, a `reason` where one
 * tag covers several causes, and a readable `message` that never carries a secret.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A media key that is not 32 bytes long, or (from text) not standard base64.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMediaKey extends Schema.TaggedError<InvalidMediaKey>("effect-wa-media/InvalidMediaKey")(
  "InvalidMediaKey",
  {
    /** `WrongLength` (the default): not 32 bytes; `NotBase64`: text that is not standard base64. */
    reason: Schema.optionalWith(Schema.Literal("WrongLength", "NotBase64"), { default: () => "WrongLength" }),
    /** The length in bytes that was given (0 when the text did not decode). */
    length: Schema.Number
  }
) {
  override get message(): string {
    return this.reason === "NotBase64"
      ? "a media key must be standard base64"
      : `a media key must be 32 bytes, got ${this.length}`
  }
}

/**
 * A media type name that is neither a library name of docs/protocol.md section 1 nor an alias.
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
 * A local file could not be read or written, or an output is the input file itself (`SameFile`:
 * the same device and inode, through a symlink or a hard link too), refused before any work.
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaFileError extends Schema.TaggedError<MediaFileError>("effect-wa-media/MediaFileError")(
  "MediaFileError",
  {
    reason: Schema.Literal("Read", "Write", "SameFile"),
    path: Schema.String,
    detail: Schema.String
  }
) {
  override get message(): string {
    return `cannot ${this.reason === "Read" ? "read" : "write"} ${this.path}: ${this.detail}`
  }
}

/**
 * One try at one host during a download or an upload: the host (never the auth token), and the
 * status it answered or the reason it failed.
 *
 * @since 0.1.0
 * @category errors
 */
export const Attempt = Schema.Struct({
  host: Schema.String,
  status: Schema.optional(Schema.Number),
  reason: Schema.String
})

/**
 * @since 0.1.0
 * @category errors
 */
export type Attempt = typeof Attempt.Type

const formatAttempts = (attempts: ReadonlyArray<Attempt>): string =>
  attempts.length === 0
    ? ""
    : `: ${
      attempts.map((a) => `${a.host} ${a.status === undefined ? a.reason : `${a.status} ${a.reason}`}`).join("; ")
    }`

/**
 * The media connection (CDN hosts and credentials) could not be had: its source failed, or what it
 * returned is malformed.
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaConnError extends Schema.TaggedError<MediaConnError>("effect-wa-media/MediaConnError")(
  "MediaConnError",
  {
    reason: Schema.Literal("Malformed", "SourceFailed", "NoHosts"),
    detail: Schema.String
  }
) {
  override get message(): string {
    return `media connection ${this.reason === "Malformed" ? "is malformed" : "unavailable"}: ${this.detail}`
  }
}

/**
 * A download that failed for good: after the single credential refresh (`Unauthorized`,
 * `NotFound`, `Expired`), after every host (`AllHostsFailed`), past its deadline, or because bytes
 * already emitted could not be taken back (`RestartImpossible`). Lists every attempt.
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaDownloadError extends Schema.TaggedError<MediaDownloadError>(
  "effect-wa-media/MediaDownloadError"
)(
  "MediaDownloadError",
  {
    reason: Schema.Literal(
      "Unauthorized",
      "NotFound",
      "Expired",
      "AllHostsFailed",
      "DeadlineExceeded",
      "RestartImpossible",
      "NoHosts"
    ),
    attempts: Schema.Array(Attempt)
  }
) {
  override get message(): string {
    return `download failed (${this.reason})${formatAttempts(this.attempts)}`
  }
}

/**
 * An upload that failed for good: after the single credential refresh (`Unauthorized`), after
 * every host (`AllHostsFailed`), past its deadline, or because the source changed between the
 * hashing pass and the sending pass (`SourceChanged`). Lists every attempt.
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaUploadError extends Schema.TaggedError<MediaUploadError>("effect-wa-media/MediaUploadError")(
  "MediaUploadError",
  {
    reason: Schema.Literal("Unauthorized", "AllHostsFailed", "DeadlineExceeded", "NoHosts", "SourceChanged"),
    attempts: Schema.Array(Attempt)
  }
) {
  override get message(): string {
    if (this.reason === "SourceChanged") return "upload failed (SourceChanged): the source changed while uploading"
    return `upload failed (${this.reason})${formatAttempts(this.attempts)}`
  }
}

/**
 * A message object that holds no downloadable media, or lacks a field the download needs.
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaMessageError extends Schema.TaggedError<MediaMessageError>("effect-wa-media/MediaMessageError")(
  "MediaMessageError",
  {
    reason: Schema.Literal("NoMedia", "MissingField", "InvalidField"),
    detail: Schema.String
  }
) {
  override get message(): string {
    return `message ${this.reason === "NoMedia" ? "holds no downloadable media" : "is invalid"}: ${this.detail}`
  }
}

/**
 * Why a media re-upload request (docs/protocol.md section 9) did not bring a fresh `directPath`.
 *
 * @since 0.1.0
 * @category errors
 */
export const MediaRetryReason = Schema.Literal(
  "NotOnPhone",
  "DecryptionError",
  "GeneralError",
  "Timeout",
  "SendFailed",
  "BadInput"
)

/**
 * @since 0.1.0
 * @category errors
 */
export type MediaRetryReason = typeof MediaRetryReason.Type

const retryMessages: Record<MediaRetryReason, string> = {
  NotOnPhone: "the sender's phone no longer has the media",
  DecryptionError: "the sender's phone could not decrypt the request",
  GeneralError: "the sender's phone reported an error",
  Timeout: "no answer from the sender's phone in time",
  SendFailed: "the request could not be sent",
  BadInput: "invalid input"
}

/**
 * A media re-upload request that failed: the phone no longer has the media (`NotOnPhone`), could
 * not decrypt the request (`DecryptionError`) or failed otherwise (`GeneralError`); no answer came
 * in time (`Timeout`); the socket could not send it (`SendFailed`); or a request, node or
 * notification that is not valid, including one that fails its authentication (`BadInput`).
 * `code` is the phone's error code or result number where it gave one.
 *
 * @since 0.1.0
 * @category errors
 */
export class MediaRetryError extends Schema.TaggedError<MediaRetryError>("effect-wa-media/MediaRetryError")(
  "MediaRetryError",
  {
    reason: MediaRetryReason,
    messageId: Schema.optional(Schema.String),
    code: Schema.optional(Schema.Number),
    detail: Schema.optional(Schema.String)
  }
) {
  override get message(): string {
    const parts = [
      retryMessages[this.reason],
      ...(this.code === undefined ? [] : [`code ${this.code}`]),
      ...(this.messageId === undefined ? [] : [`message ${this.messageId}`]),
      ...(this.detail === undefined ? [] : [this.detail])
    ]
    return `media re-upload failed (${this.reason}): ${parts.join(", ")}`
  }
}
