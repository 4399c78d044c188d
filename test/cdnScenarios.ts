// Scenarios of PROTOCOL.md sections 5-7 run against any CDN world: the loopback emulator with the
// real Node transport, and the in-memory fake `HttpClient`.
import { HttpClient, HttpClientRequest } from "@effect/platform"
import type { HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Duration, Effect, Either, Layer, Ref, Stream, TestClock } from "effect"
import type { Scope } from "effect"
import type { CdnControl } from "effect-wa-media"
import { createHash } from "node:crypto"
import { concat } from "./bytes.js"

export interface World {
  readonly cdn: CdnControl.CdnControl
  readonly scheme: "http" | "https"
  readonly mediaConnUrl: string
}

export class TestWorld extends Context.Tag("test/CdnWorld")<TestWorld, World>() {}

export const tokenOf = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("base64url")

export const bytesOf = (length: number, seed = 7): Uint8Array => {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    out[i] = x >>> 16
  }
  return out
}

export const bodyBytes = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(Stream.runCollect(response.stream), (chunks) => concat(Chunk.toReadonlyArray(chunks)))

export const fetchMediaConn = Effect.gen(function*() {
  const world = yield* TestWorld
  const client = yield* HttpClient.HttpClient
  const response = yield* client.get(world.mediaConnUrl)
  assert.strictEqual(response.status, 200)
  return (yield* response.json) as {
    auth: string
    ttl: number
    auth_ttl: number
    max_buckets: number
    hosts: Array<{ hostname: string; type: string; fallback_hostname?: string }>
  }
})

interface UploadOptions {
  readonly auth?: string | undefined
  readonly token?: string | undefined
  readonly host?: string | undefined
  readonly uploadPath?: string | undefined
  readonly query?: string | undefined
  readonly body?: Uint8Array | undefined
  readonly chunked?: boolean | undefined
}

export const uploadRequest = (blob: Uint8Array, options: UploadOptions = {}) =>
  Effect.gen(function*() {
    const world = yield* TestWorld
    const auth = options.auth ?? (yield* fetchMediaConn).auth
    const token = options.token ?? tokenOf(blob)
    const host = options.host ?? world.cdn.hosts[0]!
    const url = `${world.scheme}://${host}${options.uploadPath ?? "/mms/image"}/${token}?auth=${
      encodeURIComponent(auth)
    }&token=${token}${options.query ?? ""}`
    const body = options.body ?? blob
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeader("origin", "https://web.whatsapp.com"),
      options.chunked
        ? HttpClientRequest.bodyStream(Stream.succeed(body))
        : HttpClientRequest.bodyUint8Array(body, "application/octet-stream")
    )
    const client = yield* HttpClient.HttpClient
    return yield* client.execute(request)
  })

export const upload = (blob: Uint8Array, options: UploadOptions = {}) =>
  Effect.gen(function*() {
    const response = yield* uploadRequest(blob, options)
    const json = (yield* response.json) as Record<string, string>
    return { status: response.status, json }
  })

export const downloadUrl = (directPath: string, host?: string) =>
  Effect.map(
    TestWorld,
    (world) => `${world.scheme}://${host ?? world.cdn.hosts[0]!}${directPath}&hash=x&mms-type=image&__wa-mms=`
  )

export const download = (directPath: string, options: { readonly host?: string; readonly range?: string } = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const url = yield* downloadUrl(directPath, options.host)
    const request = HttpClientRequest.get(url).pipe(
      HttpClientRequest.setHeader("origin", "https://web.whatsapp.com"),
      options.range === undefined ? (r) => r : HttpClientRequest.setHeader("range", options.range)
    )
    const response = yield* client.execute(request)
    return { response, body: yield* bodyBytes(response) }
  })

// Counts the bytes a response body yields before it ends or fails.
const countBody = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.gen(function*() {
    const received = yield* Ref.make(0)
    const result = yield* response.stream.pipe(
      Stream.runForEach((chunk) => Ref.update(received, (n) => n + chunk.length)),
      Effect.either
    )
    return { result, received: yield* Ref.get(received) }
  })

export interface ScenarioOptions {
  /** How a stalled body is given up: TestClock (fake) or a real client-side timeout (emulator). */
  readonly stall: "TestClock" | "Live"
}

export const scenarios = (
  makeWorld: () => Layer.Layer<HttpClient.HttpClient | TestWorld, unknown>,
  options: ScenarioOptions
) => {
  const test = (name: string, body: Effect.Effect<void, unknown, HttpClient.HttpClient | TestWorld>) =>
    it.effect(name, () => Effect.provide(body, makeWorld()))

  describe("media_conn", () => {
    test(
      "lists the hosts, primary first, and issues a fresh auth each time",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const first = yield* fetchMediaConn
        const second = yield* fetchMediaConn
        assert.notStrictEqual(first.auth, second.auth)
        assert.deepStrictEqual(first.hosts.map((h) => h.hostname), world.cdn.hosts)
        assert.deepStrictEqual(first.hosts.map((h) => h.type), ["primary", "fallback"])
        assert.strictEqual(first.hosts[0]!.fallback_hostname, world.cdn.hosts[1])
        assert.strictEqual(first.ttl, 300)
        assert.strictEqual(first.auth_ttl, 21600)
        assert.strictEqual(first.max_buckets, 12)
        const viaApi = yield* world.cdn.mediaConn
        assert.notStrictEqual(viaApi.auth, first.auth)
      })
    )
  })

  describe("upload", () => {
    test(
      "stores a blob whose token matches and links it on every host",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const blob = bytesOf(100_000)
        const { json, status } = yield* upload(blob)
        assert.strictEqual(status, 200)
        assert.match(
          json.direct_path!,
          /^\/v\/t62\.7118-24\/\d+_\d+_n\.enc\?ccb=11-4&oh=[^&]+&oe=[0-9A-F]+&_nc_sid=5e03e0$/
        )
        assert.strictEqual(json.url, `${world.scheme}://${world.cdn.hosts[0]}${json.direct_path}&mms3=true`)
        const viaPrimary = yield* download(json.direct_path!)
        assert.strictEqual(viaPrimary.response.status, 200)
        assert.deepStrictEqual(viaPrimary.body, blob)
        const viaFallback = yield* download(json.direct_path!, { host: world.cdn.hosts[1]! })
        assert.deepStrictEqual(viaFallback.body, blob)
        const client = yield* HttpClient.HttpClient
        const viaUrl = yield* Effect.flatMap(client.get(json.url!), bodyBytes)
        assert.deepStrictEqual(viaUrl, blob)
      })
    )

    test(
      "takes an unencrypted product image and answers a handle",
      Effect.gen(function*() {
        const blob = bytesOf(1000, 3)
        const { json, status } = yield* upload(blob, { uploadPath: "/product/image" })
        assert.strictEqual(status, 200)
        assert.isString(json.handle)
        assert.deepStrictEqual((yield* download(json.direct_path!)).body, blob)
      })
    )

    test(
      "rejects a missing, unknown or revoked auth with 401",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const blob = bytesOf(10)
        assert.strictEqual((yield* upload(blob, { auth: "" })).status, 401)
        assert.strictEqual((yield* upload(blob, { auth: "bm90IGEgdG9rZW4=" })).status, 401)
        const { auth } = yield* fetchMediaConn
        yield* world.cdn.revokeAuth
        assert.strictEqual((yield* upload(blob, { auth })).status, 401)
      })
    )

    test(
      "rejects an auth token past its lifetime with 401",
      Effect.gen(function*() {
        const blob = bytesOf(10)
        const { auth } = yield* fetchMediaConn
        yield* TestClock.adjust(Duration.seconds(21599))
        assert.strictEqual((yield* upload(blob, { auth })).status, 200)
        yield* TestClock.adjust(Duration.seconds(1))
        assert.strictEqual((yield* upload(blob, { auth })).status, 401)
      })
    )

    test(
      "rejects a token that is not the body's SHA-256 with 400",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const blob = bytesOf(1000)
        const wrong = yield* upload(blob, { token: tokenOf(bytesOf(1000, 9)) })
        assert.strictEqual(wrong.status, 400)
        assert.strictEqual((yield* upload(blob, { token: "short" })).status, 400)
        // Nothing of a rejected upload is held for a resume.
        const probe = yield* upload(new Uint8Array(0), { token: tokenOf(bytesOf(1000, 9)), query: "&resume=1" })
        assert.strictEqual(probe.json.resume, "0")
        const requests = yield* world.cdn.requests
        assert.isTrue(requests.some((r) => r.kind === "upload" && r.status === 400))
      })
    )

    test(
      "asks for a Content-Length with 411",
      Effect.gen(function*() {
        const response = yield* uploadRequest(bytesOf(100), { chunked: true })
        assert.strictEqual(response.status, 411)
      })
    )

    test(
      "answers resume probes: none, a held part, complete",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const blob = bytesOf(300_000)
        const token = tokenOf(blob)
        const probe = () => upload(new Uint8Array(0), { token, query: "&resume=1" })
        assert.deepStrictEqual((yield* probe()).json, { resume: "0" })
        yield* world.cdn.injectFault({ _tag: "Drop", afterBytes: 123_456 })
        const broken = yield* Effect.either(uploadRequest(blob))
        assert.isTrue(Either.isLeft(broken))
        assert.deepStrictEqual((yield* probe()).json, { resume: "123456" })
        // The rest, appended at the held offset, completes the blob.
        const badOffset = yield* upload(blob, { body: blob.subarray(1000), query: "&file_offset=1000" })
        assert.strictEqual(badOffset.status, 400)
        const rest = yield* upload(blob, { body: blob.subarray(123_456), query: "&file_offset=123456" })
        assert.strictEqual(rest.status, 200)
        assert.deepStrictEqual((yield* download(rest.json.direct_path!)).body, blob)
        const complete = (yield* probe()).json
        assert.strictEqual(complete.resume, "complete")
        assert.isString(complete.url)
        assert.match(complete.direct_path!, /^\/v\//)
        const records = yield* world.cdn.requests
        const dropped = records.find((r) => r.fault === "Drop")!
        assert.strictEqual(dropped.status, undefined)
        assert.strictEqual(dropped.bytes, 123_456)
        assert.isTrue(records.every((r) => !r.path.includes("auth=")))
      })
    )

    test(
      "a flipped byte on the way up fails the token check",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const blob = bytesOf(5000)
        yield* world.cdn.injectFault({ _tag: "FlipByte", offset: 4000 })
        assert.strictEqual((yield* upload(blob)).status, 400)
        assert.strictEqual((yield* upload(blob)).status, 200)
      })
    )
  })

  describe("download", () => {
    test(
      "answers 200 with Content-Length, and 206 with Content-Range for a range",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const blob = bytesOf(200_000)
        const stored = yield* world.cdn.put(blob, { uploadPath: "/mms/video" })
        assert.match(stored.directPath, /^\/v\/t62\.7161-24\//)
        assert.strictEqual(stored.token, tokenOf(blob))
        const whole = yield* download(stored.directPath)
        assert.strictEqual(whole.response.status, 200)
        assert.strictEqual(whole.response.headers["content-length"], "200000")
        assert.deepStrictEqual(whole.body, blob)
        const tail = yield* download(stored.directPath, { range: "bytes=150000-" })
        assert.strictEqual(tail.response.status, 206)
        assert.strictEqual(tail.response.headers["content-range"], "bytes 150000-199999/200000")
        assert.strictEqual(tail.response.headers["content-length"], "50000")
        assert.deepStrictEqual(tail.body, blob.subarray(150_000))
        const beyond = yield* download(stored.directPath, { range: "bytes=200000-" })
        assert.strictEqual(beyond.response.status, 416)
        assert.strictEqual(beyond.response.headers["content-range"], "bytes */200000")
        const records = yield* world.cdn.requests
        assert.deepStrictEqual(records.map((r) => [r.status, r.range]), [
          [200, undefined],
          [206, "bytes=150000-"],
          [416, "bytes=200000-"]
        ])
        assert.deepStrictEqual(records.slice(0, 2).map((r) => r.bytes), [200_000, 50_000])
      })
    )

    test(
      "answers 404 for an unknown blob, 403 for a bad signature, 410 past expiry",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const stored = yield* world.cdn.put(bytesOf(1000))
        const forged = stored.directPath.replace(/oh=[^&]+/, "oh=01_forged")
        assert.strictEqual((yield* download(forged)).response.status, 403)
        const later = stored.directPath.replace(
          /oe=([0-9A-F]+)/,
          (_, oe: string) => `oe=${(parseInt(oe, 16) + 1).toString(16).toUpperCase()}`
        )
        assert.strictEqual((yield* download(later)).response.status, 403)
        assert.strictEqual((yield* download(stored.directPath)).response.status, 200)
        yield* TestClock.adjust(Duration.days(14))
        assert.strictEqual((yield* download(stored.directPath)).response.status, 410)
        const fresh = yield* world.cdn.put(bytesOf(1000))
        assert.strictEqual((yield* download(fresh.directPath)).response.status, 200)
        assert.isTrue(yield* world.cdn.remove(fresh.directPath))
        assert.strictEqual((yield* download(fresh.directPath)).response.status, 404)
        assert.strictEqual((yield* download("/v/t62.7118-24/1_2_n.enc?ccb=11-4&oh=01_x&oe=FF")).response.status, 404)
      })
    )

    test(
      "expireLinks makes every earlier link answer 410",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const stored = yield* world.cdn.put(bytesOf(1000))
        yield* world.cdn.expireLinks
        assert.strictEqual((yield* download(stored.directPath)).response.status, 410)
        const again = yield* world.cdn.put(bytesOf(1000))
        assert.strictEqual((yield* download(again.directPath)).response.status, 200)
      })
    )
  })

  describe("faults", () => {
    test(
      "a status fault answers N times, at its host only, then the CDN is normal",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const stored = yield* world.cdn.put(bytesOf(1000))
        const [primary, fallback] = world.cdn.hosts
        yield* world.cdn.injectFault({ _tag: "Status", status: 503, times: 2 }, { host: primary })
        // media_conn is not a media request: the fault waits for one.
        yield* fetchMediaConn
        assert.strictEqual((yield* download(stored.directPath, { host: fallback! })).response.status, 200)
        assert.strictEqual((yield* download(stored.directPath)).response.status, 503)
        assert.strictEqual((yield* download(stored.directPath)).response.status, 503)
        assert.strictEqual((yield* download(stored.directPath)).response.status, 200)
        const records = (yield* world.cdn.requests).filter((r) => r.kind === "download")
        assert.deepStrictEqual(records.map((r) => [r.host, r.status, r.fault]), [
          [fallback, 200, undefined],
          [primary, 503, "Status"],
          [primary, 503, "Status"],
          [primary, 200, undefined]
        ])
      })
    )

    test(
      "faults queue in order and can be cleared",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const stored = yield* world.cdn.put(bytesOf(1000))
        yield* world.cdn.injectFaults([{ _tag: "Status", status: 500 }, { _tag: "Status", status: 429 }])
        assert.strictEqual((yield* download(stored.directPath)).response.status, 500)
        assert.strictEqual((yield* download(stored.directPath)).response.status, 429)
        yield* world.cdn.injectFault({ _tag: "Status", status: 500, times: 5 })
        yield* world.cdn.clearFaults()
        assert.strictEqual((yield* download(stored.directPath)).response.status, 200)
        yield* world.cdn.injectFault({ _tag: "Status", status: 502, on: "media_conn" })
        const client = yield* HttpClient.HttpClient
        assert.strictEqual((yield* client.get(world.mediaConnUrl)).status, 502)
      })
    )

    test(
      "the control endpoint injects faults and lists requests",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const client = yield* HttpClient.HttpClient
        const stored = yield* world.cdn.put(bytesOf(1000))
        const base = `${world.scheme}://${world.cdn.hosts[1]}`
        const injected = yield* client.execute(
          HttpClientRequest.post(`${base}/_control/faults`).pipe(
            HttpClientRequest.bodyUnsafeJson({ fault: { _tag: "Status", status: 500, times: 1 } })
          )
        )
        assert.strictEqual(injected.status, 204)
        const malformed = yield* client.execute(
          HttpClientRequest.post(`${base}/_control/faults`).pipe(
            HttpClientRequest.bodyUnsafeJson({ fault: { _tag: "Status", status: "x" } })
          )
        )
        assert.strictEqual(malformed.status, 400)
        assert.strictEqual((yield* download(stored.directPath, { host: world.cdn.hosts[1]! })).response.status, 500)
        assert.strictEqual((yield* download(stored.directPath, { host: world.cdn.hosts[1]! })).response.status, 200)
        const listed = (yield* Effect.flatMap(client.get(`${base}/_control/requests`), (r) => r.json)) as Array<
          { status: number }
        >
        assert.deepStrictEqual(listed.map((r) => r.status), [500, 200])
        yield* Effect.flatMap(client.post(`${base}/_control/expire-links`), (r) => Effect.succeed(r.status))
        assert.strictEqual((yield* download(stored.directPath)).response.status, 410)
      })
    )

    test(
      "a drop cuts the download after exactly K bytes",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const client = yield* HttpClient.HttpClient
        const stored = yield* world.cdn.put(bytesOf(500_000))
        yield* world.cdn.injectFault({ _tag: "Drop", afterBytes: 200_001 })
        const response = yield* client.get(yield* downloadUrl(stored.directPath))
        assert.strictEqual(response.status, 200)
        const { received, result } = yield* countBody(response)
        assert.strictEqual(received, 200_001)
        assert.isTrue(Either.isLeft(result))
        if (Either.isLeft(result)) {
          assert.strictEqual(result.left._tag, "ResponseError")
          assert.strictEqual(result.left.reason, "Decode")
        }
        const after = yield* download(stored.directPath)
        assert.strictEqual(after.body.length, 500_000)
      })
    )

    test(
      "a flipped byte changes exactly that byte of the body",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const blob = bytesOf(300_000)
        const stored = yield* world.cdn.put(blob)
        yield* world.cdn.injectFault({ _tag: "FlipByte", offset: 131_073 })
        const { body } = yield* download(stored.directPath)
        assert.strictEqual(body.length, blob.length)
        const differ = body.reduce((n, b, i) => b === blob[i] ? n : [...n, i], [] as Array<number>)
        assert.deepStrictEqual(differ, [131_073])
        assert.strictEqual(body[131_073], blob[131_073]! ^ 0xff)
      })
    )

    test(
      "IgnoreRange answers 200 with the whole blob",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const blob = bytesOf(70_000)
        const stored = yield* world.cdn.put(blob)
        yield* world.cdn.injectFault({ _tag: "IgnoreRange" })
        const ignored = yield* download(stored.directPath, { range: "bytes=1000-" })
        assert.strictEqual(ignored.response.status, 200)
        assert.isUndefined(ignored.response.headers["content-range"])
        assert.deepStrictEqual(ignored.body, blob)
        const honoured = yield* download(stored.directPath, { range: "bytes=1000-" })
        assert.strictEqual(honoured.response.status, 206)
      })
    )
  })

  describe("routing", () => {
    test(
      "answers a known path's other methods with 405, unknown paths with 404, both recorded; unknown controls with 404",
      Effect.gen(function*() {
        const world = yield* TestWorld
        const client = yield* HttpClient.HttpClient
        const base = `${world.scheme}://${world.cdn.hosts[0]}`
        const stored = yield* world.cdn.put(bytesOf(1000))
        const status = (request: HttpClientRequest.HttpClientRequest) =>
          Effect.map(client.execute(request), (response) => response.status)
        assert.strictEqual(yield* status(HttpClientRequest.post(`${base}/media_conn`)), 405)
        assert.strictEqual(yield* status(HttpClientRequest.get(`${base}/mms/image/${tokenOf(bytesOf(1))}`)), 405)
        assert.strictEqual(yield* status(HttpClientRequest.del(`${base}${stored.directPath}`)), 405)
        // Paths as written: no case folding, no trailing or empty segments, only known file names.
        for (
          const path of [
            "/MEDIA_CONN",
            "/media_conn/",
            "/mms/image/",
            "/mms/sound/abc",
            "/v//1_2_n.enc",
            stored.directPath.replace(".enc", ".png")
          ]
        ) {
          assert.strictEqual(yield* status(HttpClientRequest.get(`${base}${path}`)), 404, path)
        }
        assert.strictEqual(yield* status(HttpClientRequest.get(`${base}/_control/faults`)), 404)
        assert.strictEqual(yield* status(HttpClientRequest.post(`${base}/_control/nothing`)), 404)
        const records = yield* world.cdn.requests
        assert.deepStrictEqual(records.map((r) => [r.kind, r.method, r.status]), [
          ["media_conn", "POST", 405],
          ["upload", "GET", 405],
          ["download", "DELETE", 405],
          ...Array.from({ length: 6 }, () => ["other", "GET", 404])
        ])
      })
    )
  })

  const stallTest = options.stall === "TestClock" ? it.effect : it.live
  describe("stall", () => {
    stallTest(
      "a stalled download sends headers and K bytes, then nothing until the client gives up",
      () =>
        Effect.gen(function*() {
          const world = yield* TestWorld
          const client = yield* HttpClient.HttpClient
          const stored = yield* world.cdn.put(bytesOf(100_000))
          yield* world.cdn.injectFault({ _tag: "Stall", afterBytes: 1000 })
          const received = yield* Ref.make(0)
          const timeout = options.stall === "TestClock" ? "10 seconds" : "300 millis"
          const fiber = yield* client.get(yield* downloadUrl(stored.directPath)).pipe(
            Effect.flatMap((response) =>
              response.stream.pipe(
                Stream.timeoutFail(() => "stalled" as const, timeout),
                Stream.runForEach((chunk) => Ref.update(received, (n) => n + chunk.length))
              )
            ),
            Effect.either,
            Effect.fork
          )
          if (options.stall === "TestClock") {
            // Let the client reach its timeout, then move time past it.
            while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* Effect.yieldNow()
            yield* TestClock.adjust("10 seconds")
          }
          const result = yield* fiber.await.pipe(Effect.flatten)
          assert.deepStrictEqual(result, Either.left("stalled" as const))
          assert.strictEqual(yield* Ref.get(received), 1000)
          // The host answers normally afterwards.
          assert.strictEqual((yield* download(stored.directPath)).body.length, 100_000)
        }).pipe(Effect.provide(makeWorld()))
    )

    stallTest("a stalled upload gets no answer", () =>
      Effect.gen(function*() {
        const world = yield* TestWorld
        yield* world.cdn.injectFault({ _tag: "Stall" })
        const auth = (yield* fetchMediaConn).auth
        const timeout = options.stall === "TestClock" ? "10 seconds" : "300 millis"
        const fiber = yield* uploadRequest(bytesOf(1000), { auth }).pipe(
          Effect.timeoutFail({ duration: timeout, onTimeout: () => "stalled" as const }),
          Effect.either,
          Effect.fork
        )
        if (options.stall === "TestClock") {
          while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* Effect.yieldNow()
          yield* TestClock.adjust("10 seconds")
        }
        const result = yield* fiber.await.pipe(Effect.flatten)
        assert.isTrue(Either.isLeft(result) && result.left === "stalled")
        assert.strictEqual((yield* upload(bytesOf(1000), { auth })).status, 200)
      }).pipe(Effect.provide(makeWorld())))
  })
}

export const worldLayer = <E, R>(
  make: Effect.Effect<{ readonly world: World; readonly client: HttpClient.HttpClient }, E, R>
): Layer.Layer<HttpClient.HttpClient | TestWorld, E, Exclude<R, Scope.Scope>> =>
  Layer.scopedContext(
    Effect.map(make, ({ client, world }) =>
      Context.make(HttpClient.HttpClient, client).pipe(Context.add(TestWorld, world)))
  )
