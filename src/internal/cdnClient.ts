/**
 * The `HttpClient` the transfers reach the CDN through (docs/protocol.md sections 6 and 7). An upload URL
 * carries the media connection's `auth` token in its query; `@effect/platform`'s own client span
 * records `url.full` and `url.query` as they are, and its `RequestError` prints the URL. So for these
 * requests the platform's span is turned off and replaced by one of ours whose URL attributes have
 * `auth` redacted, and the client's errors carry a redacted copy of the request.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { constTrue } from "effect/Function"

/** The `Origin` of every CDN request. */
const ORIGIN = "https://web.whatsapp.com"

/** Query parameters that hold a credential. */
const secretParams: ReadonlySet<string> = new Set(["auth"])

/** What a secret parameter's value is replaced with. */
export const REDACTED = "REDACTED"

const redactParams = (params: UrlParams.UrlParams): UrlParams.UrlParams =>
  params.map(([name, value]) => secretParams.has(name) ? [name, REDACTED] : [name, value])

/**
 * The full URL of a request with every secret parameter's value replaced (wherever it was given: in
 * the URL string or in `urlParams`), or `undefined` when it is not a valid URL.
 */
export const redactedUrl = (request: HttpClientRequest.HttpClientRequest): URL | undefined => {
  const built = UrlParams.makeUrl(request.url, redactParams(request.urlParams), request.hash)
  if (Either.isLeft(built)) return undefined
  const url = built.right
  for (const name of secretParams) {
    if (url.searchParams.has(name)) url.searchParams.set(name, REDACTED)
  }
  url.username = ""
  url.password = ""
  return url
}

/** A copy of the request that is safe to keep in an error: secret parameters redacted. */
const redactRequest = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest => {
  const url = redactedUrl(request)
  if (url !== undefined) return HttpClientRequest.setUrl(request, url)
  // Not a URL: its query cannot be read apart, so none of it is kept.
  const query = request.url.indexOf("?")
  return HttpClientRequest.setUrlParams(
    HttpClientRequest.setUrl(request, query < 0 ? request.url : request.url.slice(0, query)),
    redactParams(request.urlParams)
  )
}

const redactError = (error: HttpClientError.HttpClientError): HttpClientError.HttpClientError =>
  error._tag === "RequestError"
    ? new HttpClientError.RequestError({
      request: redactRequest(error.request),
      reason: error.reason,
      // The `TypeError` of an invalid URL holds the whole URL as its `input`.
      ...(error.reason === "InvalidUrl" || error.cause === undefined ? {} : { cause: error.cause }),
      ...(error.description === undefined ? {} : { description: error.description })
    })
    : new HttpClientError.ResponseError({
      request: redactRequest(error.request),
      response: error.response,
      reason: error.reason,
      ...(error.cause === undefined ? {} : { cause: error.cause }),
      ...(error.description === undefined ? {} : { description: error.description })
    })

/** The span attributes of a request, none of them a secret. */
const requestAttributes = (request: HttpClientRequest.HttpClientRequest): Record<string, unknown> => {
  const url = redactedUrl(request)
  const range = request.headers["range"]
  return {
    "http.request.method": request.method,
    ...(url === undefined ? {} : {
      "server.address": url.hostname,
      ...(url.port === "" ? {} : { "server.port": Number(url.port) }),
      "url.scheme": url.protocol.slice(0, -1),
      "url.path": url.pathname,
      "url.full": url.toString(),
      ...(url.search === "" ? {} : { "url.query": url.search.slice(1) })
    }),
    ...(range === undefined ? {} : { "http.request.header.range": range })
  }
}

/** What the common Node and undici error codes mean. */
const transportCodes: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed while sending",
  ETIMEDOUT: "timeout",
  UND_ERR_SOCKET: "connection closed by the server",
  UND_ERR_CONNECT_TIMEOUT: "timeout while connecting",
  UND_ERR_HEADERS_TIMEOUT: "timeout waiting for the response",
  UND_ERR_BODY_TIMEOUT: "timeout waiting for the body"
}

/** TLS failures that mean the server answered the handshake in plain HTTP. */
const plainHttpCodes: ReadonlySet<string> = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_HTTP_REQUEST"
])

const isTlsCode = (code: string): boolean =>
  code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code === "EPROTO" || code.includes("CERT") ||
  code.startsWith("UNABLE_TO_") || code.startsWith("SELF_SIGNED")

/**
 * Node's own `https` reports a failed handshake as `EPROTO`, with OpenSSL's reason only in the
 * message (`…:SSL routines:ssl3_get_record:wrong version number:…`): the code undici gives the same
 * failure (`ERR_SSL_WRONG_VERSION_NUMBER`), built from the reason's words alone.
 */
const opensslCode = (message: unknown): string | undefined => {
  const match = typeof message === "string" ? /SSL routines:[a-z0-9_]*:([a-z ]+):/.exec(message) : null
  return match === null ? undefined : `ERR_SSL_${match[1]!.trim().toUpperCase().replaceAll(" ", "_")}`
}

/** The first error code in a cause chain (`cause`, and the `errors` of an `AggregateError`). */
const codeOf = (cause: unknown, depth = 0): string | undefined => {
  if (typeof cause !== "object" || cause === null || depth > 5) return undefined
  const { code, errors, message } = cause as {
    readonly code?: unknown
    readonly errors?: unknown
    readonly message?: unknown
  }
  if (code === "EPROTO") return opensslCode(message) ?? code
  if (typeof code === "string" && code !== "") return code
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = codeOf(inner, depth + 1)
      if (found !== undefined) return found
    }
  }
  return codeOf((cause as { readonly cause?: unknown }).cause, depth + 1)
}

/**
 * Why a request (or a response body) failed at the transport, for an attempt's `reason`: the Node
 * error code behind it and what it means (`transport error: ECONNREFUSED (connection refused)`), a
 * TLS error, with a hint when an `https` request met a plain-HTTP server. Built from the code and
 * fixed words only, never from the URL.
 */
export const transportReason = (error: HttpClientError.HttpClientError): string => {
  const code = codeOf(error.cause)
  if (code === undefined) {
    if (error._tag === "RequestError" && error.reason === "InvalidUrl") return "transport error: invalid URL"
    return error.description === undefined
      ? `transport error (${error.reason})`
      : `transport error: ${error.description}`
  }
  if (plainHttpCodes.has(code)) {
    return `transport error: TLS ${code} (the host may speak plain HTTP: protocol "http", --cdn-protocol http)`
  }
  if (isTlsCode(code)) return `transport error: TLS ${code}`
  const meaning = transportCodes[code]
  return meaning === undefined ? `transport error: ${code}` : `transport error: ${code} (${meaning})`
}

/**
 * `client` with the platform's request span replaced by `http.client <METHOD>`, whose attributes are
 * `http.request.method`, `server.address`, `server.port`, `url.scheme`, `url.path`, `url.full` and
 * `url.query` (secret parameters redacted), `http.request.header.range`, and
 * `http.response.status_code` (or `error.type`, the transport's error code); its errors carry the
 * request with secret parameters redacted. No trace headers are sent to the CDN.
 */
export const make = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  client.pipe(
    // Every CDN request comes from WhatsApp Web (docs/protocol.md sections 6 and 7), whatever else it sets.
    HttpClient.mapRequest(HttpClientRequest.setHeader("origin", ORIGIN)),
    HttpClient.transform((response, request) =>
      response.pipe(
        Effect.mapError(redactError),
        Effect.tap((response) => Effect.annotateCurrentSpan("http.response.status_code", response.status)),
        Effect.tapError((error) => Effect.annotateCurrentSpan("error.type", codeOf(error.cause) ?? error.reason)),
        Effect.withSpan(`http.client ${request.method}`, {
          kind: "client",
          captureStackTrace: false,
          attributes: requestAttributes(request)
        })
      )
    ),
    HttpClient.withTracerDisabledWhen(constTrue)
  )
