/**
 * Message objects as plain records: protobuf.js messages, live or after a JSON round trip. Their
 * values are read by the field schemas of internal/messageFields.ts.
 *
 * @internal
 */

/** @internal */
export type Fields = { readonly [field: string]: unknown }

/** A plain object (not null, not an array, not bytes). @internal */
export const isRecord = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  && !(value instanceof ArrayBuffer)
