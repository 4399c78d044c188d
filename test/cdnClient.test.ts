// The CDN client: the auth token stays out of spans and errors wherever the request carries it.
import { HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as CdnClient from "../src/internal/cdnClient.js"
import * as Telemetry from "./telemetry.js"

const token = "s3cr3t+t0ken/with=signs"

/** A transport that answers 200, or fails at the transport for the host `down.example`. */
const transport = HttpClient.make((request, url) =>
  url.hostname === "down.example"
    ? Effect.fail(
      new HttpClientError.RequestError({
        request,
        reason: "Transport",
        cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" })
      })
    )
    : Effect.succeed(HttpClientResponse.fromWeb(request, new Response("{}", { status: 200 })))
)

const requests = (host: string) => [
  HttpClientRequest.post(`https://${host}/mms/image/T?auth=${encodeURIComponent(token)}&token=T`),
  HttpClientRequest.post(`https://${host}/mms/image/T`).pipe(
    HttpClientRequest.setUrlParams({ auth: token, token: "T" })
  )
]

describe("CdnClient", () => {
  for (const host of ["up.example", "down.example"]) {
    it.effect(`${host}: the auth token is in no span attribute, exit or error`, () =>
      Effect.gen(function*() {
        const telemetry = Telemetry.make()
        const client = CdnClient.make(transport)
        for (const request of requests(host)) {
          const exit = yield* Effect.exit(client.execute(request)).pipe(Effect.provide(telemetry.layer))
          const texts = [...Telemetry.texts(telemetry), ...Telemetry.exitTexts(exit)]
          Telemetry.assertNoSecret(texts, [token, encodeURIComponent(token)])
          if (Exit.isFailure(exit)) {
            const error = yield* Effect.flip(exit)
            assert.strictEqual(error._tag, "RequestError")
            assert.deepStrictEqual(
              error.request.urlParams.filter(([name]) => name === "auth"),
              [["auth", CdnClient.REDACTED]]
            )
          }
        }
        const spans = Telemetry.spansNamed(telemetry, "http.client POST")
        assert.strictEqual(spans.length, 2)
        for (const span of spans) {
          assert.strictEqual(span.kind, "client")
          assert.strictEqual(span.attributes.get("server.address"), host)
          assert.strictEqual(span.attributes.get("url.path"), "/mms/image/T")
          assert.strictEqual(span.attributes.get("url.full"), `https://${host}/mms/image/T?auth=REDACTED&token=T`)
          assert.strictEqual(span.attributes.get("url.query"), "auth=REDACTED&token=T")
        }
        // The platform's own span is off: it would be a second span per request.
        assert.strictEqual(telemetry.spans.length, 2)
      }))
  }
})

describe("CdnClient.transportReason", () => {
  const request = HttpClientRequest.get("https://mmg.whatsapp.net/x")
  const withCause = (cause: unknown, reason: "Transport" | "InvalidUrl" = "Transport") =>
    CdnClient.transportReason(new HttpClientError.RequestError({ request, reason, cause }))
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code })

  it("names the Node code behind the error, however deep, and what it means", () => {
    assert.strictEqual(withCause(coded("ECONNREFUSED")), "transport error: ECONNREFUSED (connection refused)")
    assert.strictEqual(withCause(coded("ENOTFOUND")), "transport error: ENOTFOUND (host not found)")
    assert.strictEqual(withCause(coded("ECONNRESET")), "transport error: ECONNRESET (connection reset)")
    assert.strictEqual(
      withCause(new Error("fetch failed", { cause: coded("UND_ERR_CONNECT_TIMEOUT") })),
      "transport error: UND_ERR_CONNECT_TIMEOUT (timeout while connecting)"
    )
    assert.strictEqual(
      withCause(new AggregateError([coded("ETIMEDOUT"), coded("ECONNREFUSED")])),
      "transport error: ETIMEDOUT (timeout)"
    )
    assert.strictEqual(withCause(coded("ESOMETHING")), "transport error: ESOMETHING")
  })

  it("says TLS, and hints at plain HTTP when the server answered the handshake in clear", () => {
    assert.strictEqual(
      withCause(coded("ERR_SSL_WRONG_VERSION_NUMBER")),
      "transport error: TLS ERR_SSL_WRONG_VERSION_NUMBER (the host may speak plain HTTP: protocol \"http\", --cdn-protocol http)"
    )
    // Node's own https (NodeHttpClient.layer): EPROTO, with OpenSSL's reason in the message.
    assert.strictEqual(
      withCause(coded(
        "EPROTO",
        "write EPROTO 80CC0CE8327F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:"
      )),
      "transport error: TLS ERR_SSL_WRONG_VERSION_NUMBER (the host may speak plain HTTP: protocol \"http\", --cdn-protocol http)"
    )
    assert.strictEqual(withCause(coded("EPROTO", "write EPROTO")), "transport error: TLS EPROTO")
    assert.strictEqual(withCause(coded("CERT_HAS_EXPIRED")), "transport error: TLS CERT_HAS_EXPIRED")
    assert.strictEqual(
      withCause(coded("ERR_TLS_CERT_ALTNAME_INVALID")),
      "transport error: TLS ERR_TLS_CERT_ALTNAME_INVALID"
    )
  })

  it("never repeats the cause's own message (it may hold the URL)", () => {
    const url = "https://h/x?auth=SECRET"
    assert.strictEqual(
      withCause(Object.assign(new TypeError(`Invalid URL ${url}`), { input: url }), "InvalidUrl"),
      "transport error: invalid URL"
    )
    assert.strictEqual(withCause(new Error(url)), "transport error (Transport)")
  })
})
