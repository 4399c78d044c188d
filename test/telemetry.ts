// What the secrets tests share: a recording `Tracer`, a capturing `Logger`, the secrets a run
// handled (every auth token the media connection gave out, the media key and its derived keys) in
// every encoding they could leak in, and one check that no recorded text holds any of them.
import { HttpClient, UrlParams } from "@effect/platform"
import { assert } from "@effect/vitest"
import { Cause, Effect, Exit, Inspectable, Layer, Logger, LogLevel, Option, Redacted, Tracer } from "effect"
import type { MediaType } from "effect-wa-media"
import { MediaConn, MediaKeys } from "effect-wa-media"

/** One span as the tracer saw it. */
export interface RecordedSpan {
  readonly name: string
  readonly spanId: string
  readonly kind: Tracer.SpanKind
  readonly parent: string | undefined
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }>
  exit: Exit.Exit<unknown, unknown> | undefined
}

/** Everything one run recorded, and the secrets it handled. */
export interface Telemetry {
  readonly spans: Array<RecordedSpan>
  readonly logs: Array<string>
  /** Every auth token seen: given out by the media connection or sent on the wire. */
  readonly auth: Set<string>
  /** The tracer and the logger (at every level), to provide to the program under test. */
  readonly layer: Layer.Layer<never>
  /** Wraps the media connection so that every auth token it hands out is remembered. */
  readonly mediaConn: Layer.Layer<MediaConn.MediaConn, never, MediaConn.MediaConn>
  /** Wraps the transport so that every auth token sent on the wire is remembered. */
  readonly wire: Layer.Layer<HttpClient.HttpClient, never, HttpClient.HttpClient>
}

export const make = (): Telemetry => {
  const spans: Array<RecordedSpan> = []
  const logs: Array<string> = []
  const auth = new Set<string>()
  let ids = 0
  const tracer = Tracer.make({
    span(name, parent, context, links, startTime, kind) {
      const spanId = `span-${++ids}`
      const record: RecordedSpan = {
        name,
        spanId,
        kind,
        parent: Option.match(parent, { onNone: () => undefined, onSome: (span) => span.spanId }),
        attributes: new Map(),
        events: [],
        exit: undefined
      }
      spans.push(record)
      let status: Tracer.SpanStatus = { _tag: "Started", startTime }
      return {
        _tag: "Span",
        name,
        spanId,
        traceId: "trace",
        parent,
        context,
        get status() {
          return status
        },
        attributes: record.attributes,
        links,
        sampled: true,
        kind,
        end(endTime, exit) {
          status = { _tag: "Ended", startTime, endTime, exit }
          record.exit = exit
        },
        attribute(key, value) {
          record.attributes.set(key, value)
        },
        event(name, _startTime, attributes) {
          record.events.push({ name, attributes })
        },
        addLinks() {}
      }
    },
    context: (f) => f()
  })
  const logger = Logger.make(({ annotations, cause, logLevel, message, spans: logSpans }) => {
    const parts = [logLevel.label, ...[message].flat().map((m) => Inspectable.toStringUnknown(m))]
    if (!Cause.isEmpty(cause)) parts.push(Cause.pretty(cause, { renderErrorCause: true }))
    for (const [key, value] of annotations) parts.push(`${key}=${Inspectable.toStringUnknown(value)}`)
    for (const span of logSpans) parts.push(span.label)
    logs.push(parts.join(" "))
  })
  const remember = (info: MediaConn.MediaConnInfo) =>
    Effect.sync(() => {
      auth.add(Redacted.value(info.auth))
    })
  return {
    spans,
    logs,
    auth,
    layer: Layer.mergeAll(
      Layer.setTracer(tracer),
      Logger.replace(Logger.defaultLogger, logger),
      Logger.minimumLogLevel(LogLevel.All)
    ),
    mediaConn: Layer.effect(
      MediaConn.MediaConn,
      Effect.map(MediaConn.MediaConn, (conn) =>
        MediaConn.MediaConn.of({
          get: Effect.tap(conn.get, remember),
          refresh: Effect.tap(conn.refresh, remember),
          invalidate: conn.invalidate
        }))
    ),
    wire: Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (client) =>
        HttpClient.mapRequest(client, (request) => {
          const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
          if (url._tag === "Right") {
            const token = url.right.searchParams.get("auth")
            if (token !== null && token !== "") auth.add(token)
          }
          return request
        }))
    )
  }
}

/** A value as text, the way an exporter or a log line could show it. */
const show = (value: unknown): string => {
  if (typeof value === "string") return value
  try {
    return `${Inspectable.toStringUnknown(value)} ${JSON.stringify(value)}`
  } catch {
    return Inspectable.toStringUnknown(value)
  }
}

/** The texts of a run: every span name, attribute, event and exit, and every log line. */
export const texts = (telemetry: Telemetry): Array<string> => {
  const out: Array<string> = [...telemetry.logs]
  for (const span of telemetry.spans) {
    out.push(span.name)
    for (const [key, value] of span.attributes) out.push(`${key}=${show(value)}`)
    for (const event of span.events) out.push(event.name, show(event.attributes ?? {}))
    if (span.exit !== undefined && Exit.isFailure(span.exit)) {
      out.push(Cause.pretty(span.exit.cause, { renderErrorCause: true }), show(Cause.squash(span.exit.cause)))
    }
  }
  return out
}

/** The texts of a run's outcome: the error's message, its attempts, the pretty-printed cause. */
export const exitTexts = (exit: Exit.Exit<unknown, unknown>): Array<string> => {
  if (Exit.isSuccess(exit)) return []
  const error = Cause.squash(exit.cause)
  const attempts = typeof error === "object" && error !== null && "attempts" in error ? error.attempts : []
  return [
    Cause.pretty(exit.cause, { renderErrorCause: true }),
    error instanceof Error ? error.message : String(error),
    show(error),
    show(attempts)
  ]
}

const encodings = (bytes: Uint8Array): Array<string> => {
  const buffer = Buffer.from(bytes)
  return [buffer.toString("base64"), buffer.toString("base64url"), buffer.toString("hex")]
}

/** A media key and every key derived from it, in base64, base64url and hex. */
export const keySecrets = (mediaKey: Uint8Array, mediaType: MediaType.MediaType): Effect.Effect<Array<string>> =>
  Effect.map(
    Effect.orDie(Effect.flatMap(MediaKeys.fromBytes(mediaKey), (key) => MediaKeys.derive(key, mediaType))),
    (keys) => [mediaKey, keys.iv, Redacted.value(keys.cipherKey), Redacted.value(keys.macKey)].flatMap(encodings)
  )

/** Every auth token seen, raw and URL-encoded. */
export const authSecrets = (telemetry: Telemetry): Array<string> =>
  [...telemetry.auth].flatMap((token) => [token, encodeURIComponent(token)])

/** Fails the test when any text holds any secret; there must be secrets to look for. */
export const assertNoSecret = (texts: ReadonlyArray<string>, secrets: ReadonlyArray<string>): void => {
  assert.isAbove(secrets.length, 0, "no secret to look for")
  for (const secret of secrets) {
    assert.isAtLeast(secret.length, 16, "a secret too short to search for")
    for (const text of texts) {
      assert.isFalse(text.includes(secret), `a secret leaked into: ${text.slice(0, 200)}`)
    }
  }
}

/** The spans named `name`. */
export const spansNamed = (telemetry: Telemetry, name: string): Array<RecordedSpan> =>
  telemetry.spans.filter((span) => span.name === name)

/** The attributes of `span` among `keys`, as a plain object (absent ones left out). */
export const pick = (span: RecordedSpan | undefined, keys: ReadonlyArray<string>): Record<string, unknown> => {
  assert.isDefined(span, "no such span")
  const out: Record<string, unknown> = {}
  for (const key of keys) if (span!.attributes.has(key)) out[key] = span!.attributes.get(key)
  return out
}

/** The attributes the library's operation spans carry. */
export const operationKeys = [
  "media.type",
  "media.blob_length",
  "media.file_length",
  "cdn.host",
  "cdn.attempts",
  "cdn.resumes",
  "cdn.restarts",
  "outcome",
  "error.type",
  "error.reason"
]

/** The attributes of an attempt span. */
export const attemptKeys = [
  "cdn.host",
  "cdn.attempt",
  "cdn.offset",
  "cdn.probe",
  "outcome",
  "http.response.status_code",
  "cdn.reason"
]
