/**
 * The `HttpClient` the transfers reach the CDN through (PROTOCOL.md sections 6 and 7). An upload URL
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

/**
 * `client` with the platform's request span replaced by `http.client <METHOD>`, whose attributes are
 * `http.request.method`, `server.address`, `server.port`, `url.scheme`, `url.path`, `url.full` and
 * `url.query` (secret parameters redacted), `http.request.header.range`, and
 * `http.response.status_code`; its errors carry the request with secret parameters redacted. No
 * trace headers are sent to the CDN.
 */
export const make = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  client.pipe(
    HttpClient.transform((response, request) =>
      response.pipe(
        Effect.mapError(redactError),
        Effect.tap((response) => Effect.annotateCurrentSpan("http.response.status_code", response.status)),
        Effect.withSpan(`http.client ${request.method}`, {
          kind: "client",
          captureStackTrace: false,
          attributes: requestAttributes(request)
        })
      )
    ),
    HttpClient.withTracerDisabledWhen(constTrue)
  )
