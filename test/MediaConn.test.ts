import { FileSystem, HttpClient, HttpClientError, HttpClientResponse, Path } from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, FiberStatus, Layer, Redacted, Ref, Schema, Scope, TestClock } from "effect"
import { MediaConn, MediaError } from "effect-wa-media"

const AUTH = "AUTH-TOKEN-s3cr3t-Zq9xW2"

const sourceDown = new MediaError.MediaConnError({ reason: "SourceFailed", detail: "socket closed" })

const reply = (overrides: Partial<MediaConn.MediaConnReply> = {}): MediaConn.MediaConnReply => ({
  auth: Redacted.make(AUTH),
  ttl: 300,
  authTtl: 60,
  maxBuckets: 12,
  hosts: [{ hostname: "mmg.whatsapp.net", type: "primary" }],
  ...overrides
})

// A source that counts its runs and hands over `replies[n]` on run n (the last one from then on).
const countingSource = Effect.fnUntraced(function*(
  ...replies: ReadonlyArray<Effect.Effect<MediaConn.MediaConnReply, MediaError.MediaConnError>>
) {
  const calls = yield* Ref.make(0)
  const source = Effect.flatMap(
    Ref.getAndUpdate(calls, (n) => n + 1),
    (n) => replies[Math.min(n, replies.length - 1)]!
  )
  return { calls, source } as const
})

// Waits, without sleeping, until every fiber is parked (on the shared fetch) or done. Bounded, so that
// a broken cache fails the test instead of spinning.
const awaitSuspended = (fibers: ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>>) =>
  Effect.forEach(fibers, Fiber.status).pipe(
    Effect.map((statuses) => statuses.every((status) => !FiberStatus.isRunning(status))),
    Effect.tap(() => Effect.yieldNow()),
    Effect.repeat({ until: (parked) => parked, times: 1_000 }),
    Effect.flatMap((parked) => parked ? Effect.void : Effect.dieMessage("fibers never parked"))
  )

const assertNoSecret = (value: unknown) => {
  assert.notInclude(String(value), AUTH)
  assert.notInclude(JSON.stringify(value), AUTH)
  if (value instanceof Error) assert.notInclude(value.message, AUTH)
}

const iqReply: MediaConn.BinaryNode = {
  tag: "iq",
  attrs: { id: "42", type: "result", from: "s.whatsapp.net" },
  content: [{
    tag: "media_conn",
    attrs: { auth: AUTH, ttl: "300", auth_ttl: "21600", max_buckets: "12" },
    content: [
      {
        tag: "host",
        attrs: {
          hostname: "media-fra5-1.cdn.whatsapp.net",
          type: "primary",
          fallback_hostname: "media-fra5-2.cdn.whatsapp.net",
          ip4: "157.240.0.1",
          ip6: "2a03:2880::1"
        },
        content: [
          { tag: "upload", attrs: {}, content: [{ tag: "image", attrs: {} }, { tag: "video", attrs: {} }] },
          { tag: "download", attrs: {}, content: [{ tag: "image", attrs: {} }] }
        ]
      },
      {
        tag: "host",
        attrs: { hostname: "mmg.whatsapp.net", type: "fallback", fallback_hostname: "media.fmed1-1.fna.whatsapp.net" },
        content: new Uint8Array([1, 2, 3])
      },
      { tag: "host", attrs: { hostname: "media-ams4-1.cdn.whatsapp.net" }, content: "ignored" },
      { tag: "host", attrs: { type: "primary" } },
      { tag: "host", attrs: { hostname: "evil.example/x?", type: "primary" } },
      { tag: "host", attrs: { hostname: "media-fra5-2.cdn.whatsapp.net", type: "primary" } },
      { tag: "host", attrs: { hostname: "mmg.whatsapp.net", type: "fallback" } },
      { tag: "ping", attrs: {} }
    ]
  }]
}

const mediaConnOf = (attrs: Record<string, string>, content?: MediaConn.BinaryNode["content"]) => ({
  tag: "media_conn",
  attrs,
  content: content ?? [{ tag: "host", attrs: { hostname: "mmg.whatsapp.net" } }]
})

describe("MediaConn", () => {
  describe("fromNode", () => {
    it.effect("parses a realistic reply", () =>
      Effect.gen(function*() {
        const parsed = yield* MediaConn.fromNode(iqReply)
        assert.strictEqual(Redacted.value(parsed.auth), AUTH)
        assert.strictEqual(parsed.ttl, 300)
        assert.strictEqual(parsed.authTtl, 21600)
        assert.strictEqual(parsed.maxBuckets, 12)
        assert.deepStrictEqual(parsed.hosts, [
          {
            hostname: "media-fra5-1.cdn.whatsapp.net",
            type: "primary",
            fallbackHostname: "media-fra5-2.cdn.whatsapp.net",
            ip4: "157.240.0.1",
            ip6: "2a03:2880::1"
          },
          { hostname: "mmg.whatsapp.net", type: "fallback", fallbackHostname: "media.fmed1-1.fna.whatsapp.net" },
          { hostname: "media-ams4-1.cdn.whatsapp.net", type: "primary" },
          { hostname: "media-fra5-2.cdn.whatsapp.net", type: "primary" },
          { hostname: "mmg.whatsapp.net", type: "fallback" }
        ])
        assert.deepStrictEqual(MediaConn.hostOrder(parsed), [
          "media-fra5-1.cdn.whatsapp.net",
          "media-fra5-2.cdn.whatsapp.net",
          "media-ams4-1.cdn.whatsapp.net",
          "mmg.whatsapp.net",
          "media.fmed1-1.fna.whatsapp.net"
        ])
        assertNoSecret(parsed)
      }))

    it.effect("accepts the media_conn node itself; missing ttl is 0, missing auth_ttl stays absent", () =>
      Effect.gen(function*() {
        const parsed = yield* MediaConn.fromNode(mediaConnOf({ auth: AUTH }))
        assert.strictEqual(parsed.ttl, 0)
        assert.isFalse("authTtl" in parsed)
        assert.isFalse("maxBuckets" in parsed)
        assert.deepStrictEqual(parsed.hosts, [{ hostname: "mmg.whatsapp.net", type: "primary" }])
      }))

    it.effect("accepts host names with a port", () =>
      Effect.gen(function*() {
        const parsed = yield* MediaConn.fromNode(
          mediaConnOf({ auth: AUTH }, [
            { tag: "host", attrs: { hostname: "127.0.0.1:4100", fallback_hostname: "localhost:4101" } },
            { tag: "host", attrs: { hostname: "[::1]:4102", type: "fallback" } },
            { tag: "host", attrs: { hostname: "127.0.0.1:99999" } }
          ])
        )
        assert.deepStrictEqual(MediaConn.hostOrder(parsed), ["127.0.0.1:4100", "localhost:4101", "[::1]:4102"])
      }))

    it.effect("fails with Malformed on a missing media_conn, a missing auth or a non-numeric ttl", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [MediaConn.BinaryNode, string]> = [
          [{ tag: "iq", attrs: { type: "result" } }, "no media_conn"],
          [{ tag: "iq", attrs: { type: "result" }, content: new Uint8Array([1]) }, "no media_conn"],
          [{ tag: "iq", attrs: { type: "result" }, content: [{ tag: "ping", attrs: {} }] }, "no media_conn"],
          [{ tag: "iq", attrs: {}, content: [mediaConnOf({ ttl: "300" })] }, "no auth"],
          [mediaConnOf({ auth: "" }), "no auth"],
          [mediaConnOf({ auth: AUTH, ttl: "soon" }), "ttl"],
          [mediaConnOf({ auth: AUTH, ttl: "-5" }), "ttl"],
          [mediaConnOf({ auth: AUTH, ttl: "300", auth_ttl: "1e3" }), "auth_ttl"],
          [mediaConnOf({ auth: AUTH, max_buckets: "many" }), "max_buckets"]
        ]
        for (const [node, detail] of cases) {
          const error = yield* Effect.flip(MediaConn.fromNode(node))
          assert.strictEqual(error._tag, "MediaConnError")
          assert.strictEqual(error.reason, "Malformed")
          assert.include(error.message, detail)
          assertNoSecret(error)
        }
      }))

    it.effect("fails with NoHosts when no usable host is left", () =>
      Effect.gen(function*() {
        for (
          const content of [
            [],
            "text",
            new Uint8Array([1, 2]),
            [{ tag: "host", attrs: { type: "primary" } }, { tag: "host", attrs: { hostname: "a.b/c" } }]
          ]
        ) {
          const error = yield* Effect.flip(MediaConn.fromNode(mediaConnOf({ auth: AUTH, ttl: "10" }, content)))
          assert.strictEqual(error.reason, "NoHosts")
          assertNoSecret(error)
        }
      }))

    it.effect("turns an IQ error reply into SourceFailed", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(MediaConn.fromNode({
          tag: "iq",
          attrs: { type: "error" },
          content: [{ tag: "error", attrs: { code: "401", text: "not-authorized" } }]
        }))
        assert.strictEqual(error.reason, "SourceFailed")
        assert.include(error.message, "401 not-authorized")
      }))

    it.effect("treats malformed nodes from the wire as typed errors", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(MediaConn.fromNode(null as unknown as MediaConn.BinaryNode))
        assert.strictEqual(error.reason, "Malformed")
        const noAttrs = yield* Effect.flip(
          MediaConn.fromNode({ tag: "media_conn" } as unknown as MediaConn.BinaryNode)
        )
        assert.strictEqual(noAttrs.reason, "Malformed")
        assert.include(noAttrs.message, "no auth")
      }))
  })

  describe("hostOrder and expiresAt", () => {
    it("puts primary hosts first, each followed by its fallback, without duplicates", () => {
      const order = MediaConn.hostOrder({
        hosts: [
          { hostname: "f1", type: "fallback", fallbackHostname: "f1b" },
          { hostname: "p1", type: "primary", fallbackHostname: "p1b" },
          { hostname: "p2", type: "primary", fallbackHostname: "f1" },
          { hostname: "f2", type: "fallback" },
          { hostname: "p1", type: "primary" },
          { hostname: "p3", type: "primary", fallbackHostname: "p1b" }
        ]
      })
      assert.deepStrictEqual(order, ["p1", "p1b", "p2", "f1", "p3", "f1b", "f2"])
    })

    it("expires at min(ttl, auth_ttl), or ttl without auth_ttl", () => {
      const base = { auth: Redacted.make(AUTH), hosts: [], fetchedAt: 1_000 }
      assert.strictEqual(MediaConn.expiresAt({ ...base, ttl: 300, authTtl: 60 }), 61_000)
      assert.strictEqual(MediaConn.expiresAt({ ...base, ttl: 60, authTtl: 21600 }), 61_000)
      assert.strictEqual(MediaConn.expiresAt({ ...base, ttl: 300 }), 301_000)
      assert.strictEqual(MediaConn.expiresAt({ ...base, ttl: 0 }), 1_000)
    })
  })

  describe("JSON form", () => {
    const json: MediaConn.MediaConnJson = {
      auth: AUTH,
      ttl: 300,
      auth_ttl: 21600,
      max_buckets: 12,
      hosts: [
        { hostname: "127.0.0.1:4100", type: "primary", fallback_hostname: "127.0.0.1:4101", ip4: "127.0.0.1" },
        { hostname: "mmg.whatsapp.net", type: "fallback", ip6: "::1" }
      ]
    }

    it.effect("decodes to the model and encodes back", () =>
      Effect.gen(function*() {
        const decoded = yield* MediaConn.decodeJson(json)
        assert.strictEqual(Redacted.value(decoded.auth), AUTH)
        assert.strictEqual(decoded.authTtl, 21600)
        assert.deepStrictEqual(decoded.hosts[0], {
          hostname: "127.0.0.1:4100",
          type: "primary",
          fallbackHostname: "127.0.0.1:4101",
          ip4: "127.0.0.1"
        })
        assert.deepStrictEqual(MediaConn.encodeJson(decoded), json)
        const text = MediaConn.encodeJsonString(decoded)
        assert.deepStrictEqual(JSON.parse(text), json)
        const again = yield* MediaConn.decodeJsonString(text)
        assert.deepStrictEqual(MediaConn.encodeJson(again), json)
        // the Schema itself round-trips too
        const viaSchema = Schema.decodeUnknownSync(MediaConn.MediaConnFromJson)(json)
        assert.deepStrictEqual(Schema.encodeSync(MediaConn.MediaConnFromJson)(viaSchema), json)
      }))

    it.effect("encodes a stamped info without its fetchedAt", () =>
      Effect.gen(function*() {
        const decoded = yield* MediaConn.decodeJson(json)
        assert.deepStrictEqual(MediaConn.encodeJson({ ...decoded, fetchedAt: 5 } as MediaConn.MediaConnInfo), json)
      }))

    it.effect("defaults type to primary and ttl to 0, skips hosts without a usable hostname, reads null as missing", () =>
      Effect.gen(function*() {
        const decoded = yield* MediaConn.decodeJson({
          auth: AUTH,
          auth_ttl: null,
          hosts: [
            { type: "primary" },
            { hostname: "a.example", fallback_hostname: null },
            { hostname: "user@b.example" },
            { hostname: "c.example", type: "backup" }
          ],
          extra: true
        })
        assert.strictEqual(decoded.ttl, 0)
        assert.isFalse("authTtl" in decoded)
        assert.deepStrictEqual(decoded.hosts, [
          { hostname: "a.example", type: "primary" },
          { hostname: "c.example", type: "fallback" }
        ])
      }))

    it.effect("fails with Malformed or NoHosts, never quoting the auth token", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [unknown, MediaError.MediaConnError["reason"], string]> = [
          [{ ttl: 300, hosts: [{ hostname: "a.example" }] }, "Malformed", "auth"],
          [{ auth: AUTH, ttl: "300", hosts: [{ hostname: "a.example" }] }, "Malformed", "ttl"],
          [{ auth: AUTH, ttl: -1, hosts: [{ hostname: "a.example" }] }, "Malformed", "ttl"],
          [{ auth: AUTH, ttl: 300, hosts: AUTH }, "Malformed", "hosts"],
          [{ auth: AUTH, ttl: 300, hosts: [AUTH] }, "Malformed", "hosts"],
          [{ auth: [AUTH], ttl: 300 }, "Malformed", "auth"],
          [AUTH, "Malformed", "(root)"],
          [{ auth: AUTH, ttl: 300 }, "NoHosts", "no usable host"],
          [{ auth: AUTH, ttl: 300, hosts: [] }, "NoHosts", "no usable host"]
        ]
        for (const [input, reason, detail] of cases) {
          const error = yield* Effect.flip(MediaConn.decodeJson(input))
          assert.strictEqual(error.reason, reason)
          assert.include(error.message, detail)
          assertNoSecret(error)
        }
        const notJson = yield* Effect.flip(MediaConn.decodeJsonString(`{"auth": "${AUTH}", ttl`))
        assert.strictEqual(notJson.reason, "Malformed")
        assertNoSecret(notJson)
      }))
  })

  describe("service", () => {
    it.scoped("caches until min(ttl, auth_ttl), then fetches again", () =>
      Effect.gen(function*() {
        const { calls, source } = yield* countingSource(Effect.succeed(reply({ ttl: 300, authTtl: 60 })))
        const conn = yield* MediaConn.make(source)
        const first = yield* conn.get
        assert.strictEqual(first.fetchedAt, 0)
        assert.strictEqual(yield* Ref.get(calls), 1)
        yield* TestClock.adjust("59999 millis")
        assert.strictEqual(yield* conn.get, first)
        assert.strictEqual(yield* Ref.get(calls), 1)
        yield* TestClock.adjust("1 millis")
        const second = yield* conn.get
        assert.strictEqual(second.fetchedAt, 60_000)
        assert.strictEqual(yield* Ref.get(calls), 2)
        yield* TestClock.adjust("61 seconds")
        yield* conn.get
        assert.strictEqual(yield* Ref.get(calls), 3)
      }))

    it.scoped("uses ttl when auth_ttl is absent, and ttl when it is the smaller one", () =>
      Effect.gen(function*() {
        const { authTtl: _, ...noAuthTtl } = reply({ ttl: 120 })
        const { calls, source } = yield* countingSource(Effect.succeed(noAuthTtl))
        const conn = yield* MediaConn.make(source)
        yield* conn.get
        yield* TestClock.adjust("119 seconds")
        yield* conn.get
        assert.strictEqual(yield* Ref.get(calls), 1)
        yield* TestClock.adjust("1 second")
        yield* conn.get
        assert.strictEqual(yield* Ref.get(calls), 2)

        const small = yield* countingSource(Effect.succeed(reply({ ttl: 10, authTtl: 21600 })))
        const conn2 = yield* MediaConn.make(small.source)
        yield* conn2.get
        yield* TestClock.adjust("10 seconds")
        yield* conn2.get
        assert.strictEqual(yield* Ref.get(small.calls), 2)
      }))

    it.scoped("ttl 0 fetches on every get", () =>
      Effect.gen(function*() {
        const { calls, source } = yield* countingSource(Effect.succeed(reply({ ttl: 0, authTtl: 0 })))
        const conn = yield* MediaConn.make(source)
        yield* conn.get
        yield* conn.get
        yield* conn.get
        assert.strictEqual(yield* Ref.get(calls), 3)
      }))

    it.scoped("concurrent gets share one in-flight fetch (even with ttl 0)", () =>
      Effect.gen(function*() {
        const latch = yield* Effect.makeLatch(false)
        const { calls, source } = yield* countingSource(
          Effect.as(latch.await, reply({ ttl: 0 }))
        )
        const conn = yield* MediaConn.make(source)
        const fibers = yield* Effect.forEach(Array.from({ length: 20 }), () => Effect.fork(conn.get))
        yield* awaitSuspended(fibers)
        assert.strictEqual(yield* Ref.get(calls), 1)
        yield* latch.open
        const results = yield* Fiber.joinAll(fibers)
        assert.strictEqual(yield* Ref.get(calls), 1)
        for (const info of results) assert.strictEqual(info, results[0])
      }))

    it.scoped("an interrupted caller does not cancel the fetch others wait for", () =>
      Effect.gen(function*() {
        const latch = yield* Effect.makeLatch(false)
        const { calls, source } = yield* countingSource(Effect.as(latch.await, reply()))
        const conn = yield* MediaConn.make(source)
        const a = yield* Effect.fork(conn.get)
        const b = yield* Effect.fork(conn.get)
        yield* awaitSuspended([a, b])
        yield* Fiber.interrupt(a)
        yield* latch.open
        const info = yield* Fiber.join(b)
        assert.strictEqual(Redacted.value(info.auth), AUTH)
        assert.strictEqual(yield* Ref.get(calls), 1)
        assert.strictEqual(yield* conn.get, info)
      }))

    it.scoped("a source's own timeout still fires inside the service, and the next get asks again", () =>
      Effect.gen(function*() {
        const calls = yield* Ref.make(0)
        const silent = HttpClient.make(() => Effect.zipRight(Ref.update(calls, (n) => n + 1), Effect.never))
        const conn = yield* MediaConn.make(
          MediaConn.fromUrl("http://127.0.0.1:4100/media_conn", { timeout: "5 seconds" }).pipe(
            Effect.provideService(HttpClient.HttpClient, silent)
          )
        )
        const fiber = yield* Effect.fork(conn.get)
        yield* awaitSuspended([fiber])
        yield* TestClock.adjust("5 seconds")
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error.reason, "SourceFailed")
        assert.include(error.message, "took longer than")
        const again = yield* Effect.fork(conn.get)
        yield* awaitSuspended([again])
        assert.strictEqual(yield* Ref.get(calls), 2)
      }))

    it.effect("closing the service's scope stops a stuck fetch and releases its waiters", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const conn = yield* MediaConn.make(Effect.never).pipe(Scope.extend(scope))
        const fiber = yield* Effect.fork(conn.get)
        yield* awaitSuspended([fiber])
        yield* Scope.close(scope, Exit.void)
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isInterrupted(exit))
        const after = yield* Effect.exit(conn.get)
        assert.isTrue(Exit.isInterrupted(after))
      }))

    it.scoped("never caches a failure", () =>
      Effect.gen(function*() {
        const { calls, source } = yield* countingSource(
          Effect.fail(sourceDown),
          Effect.succeed(reply())
        )
        const conn = yield* MediaConn.make(source)
        const error = yield* Effect.flip(conn.get)
        assert.strictEqual(error.reason, "SourceFailed")
        const info = yield* conn.get
        assert.strictEqual(Redacted.value(info.auth), AUTH)
        assert.strictEqual(yield* Ref.get(calls), 2)
        yield* conn.get
        assert.strictEqual(yield* Ref.get(calls), 2)
      }))

    it.scoped("concurrent callers all see a shared failure, the next get fetches again", () =>
      Effect.gen(function*() {
        const latch = yield* Effect.makeLatch(false)
        const { calls, source } = yield* countingSource(
          Effect.zipRight(latch.await, Effect.fail(sourceDown)),
          Effect.succeed(reply())
        )
        const conn = yield* MediaConn.make(source)
        const fibers = yield* Effect.forEach([1, 2, 3], () => Effect.fork(conn.get))
        yield* awaitSuspended(fibers)
        yield* latch.open
        for (const fiber of fibers) {
          const exit = yield* Fiber.await(fiber)
          assert.isTrue(Exit.isFailure(exit))
        }
        assert.strictEqual(yield* Ref.get(calls), 1)
        yield* conn.get
        assert.strictEqual(yield* Ref.get(calls), 2)
      }))

    it.scoped("invalidate drops the cache; refresh fetches anew", () =>
      Effect.gen(function*() {
        const { calls, source } = yield* countingSource(
          Effect.succeed(reply({ auth: Redacted.make("first-token") })),
          Effect.succeed(reply({ auth: Redacted.make("second-token") })),
          Effect.succeed(reply({ auth: Redacted.make("third-token") }))
        )
        const conn = yield* MediaConn.make(source)
        assert.strictEqual(Redacted.value((yield* conn.get).auth), "first-token")
        yield* conn.invalidate
        yield* conn.invalidate
        assert.strictEqual(Redacted.value((yield* conn.get).auth), "second-token")
        assert.strictEqual(Redacted.value((yield* conn.get).auth), "second-token")
        assert.strictEqual(Redacted.value((yield* conn.refresh).auth), "third-token")
        assert.strictEqual(Redacted.value((yield* conn.get).auth), "third-token")
        assert.strictEqual(yield* Ref.get(calls), 3)
      }))

    it.scoped("refresh shares a fetch already in flight", () =>
      Effect.gen(function*() {
        const latch = yield* Effect.makeLatch(false)
        const { calls, source } = yield* countingSource(Effect.as(latch.await, reply()))
        const conn = yield* MediaConn.make(source)
        const get = yield* Effect.fork(conn.get)
        yield* awaitSuspended([get])
        const refreshes = yield* Effect.forEach([1, 2], () => Effect.fork(conn.refresh))
        yield* conn.invalidate
        yield* awaitSuspended(refreshes)
        yield* latch.open
        const [a, b, c] = yield* Fiber.joinAll([get, ...refreshes])
        assert.strictEqual(a, b)
        assert.strictEqual(a, c)
        assert.strictEqual(yield* Ref.get(calls), 1)
      }))

    it.scoped("a source with no usable host fails with NoHosts", () =>
      Effect.gen(function*() {
        for (const hosts of [[], [{ hostname: "a.example/evil#", type: "primary" as const }]]) {
          const conn = yield* MediaConn.make(Effect.succeed(reply({ hosts })))
          const error = yield* Effect.flip(conn.get)
          assert.strictEqual(error.reason, "NoHosts")
        }
      }))

    it.effect("layerTest hands over a fixed value, from the model or the JSON form", () =>
      Effect.gen(function*() {
        const fromModel = yield* Effect.flatMap(MediaConn.MediaConn, (conn) => conn.get).pipe(
          Effect.provide(MediaConn.layerTest(reply()))
        )
        assert.strictEqual(Redacted.value(fromModel.auth), AUTH)
        const fromJson = yield* Effect.flatMap(MediaConn.MediaConn, (conn) => Effect.zipRight(conn.get, conn.refresh))
          .pipe(
            Effect.provide(MediaConn.layerTest({ auth: AUTH, ttl: 5, hosts: [{ hostname: "127.0.0.1:4100" }] }))
          )
        assert.deepStrictEqual(MediaConn.hostOrder(fromJson), ["127.0.0.1:4100"])
        assertNoSecret(fromJson)
        const broken = yield* Effect.flatMap(MediaConn.MediaConn, (conn) => Effect.flip(conn.get)).pipe(
          Effect.provide(MediaConn.layerTest({ auth: AUTH, ttl: -3 }))
        )
        assert.strictEqual(broken.reason, "Malformed")
        assertNoSecret(broken)
      }))
  })

  describe("fromUrl", () => {
    const URL = "http://127.0.0.1:4100/media_conn?key=other-secret"

    const fakeClient = (respond: (request: HttpClientRequest.HttpClientRequest) => Response) =>
      Effect.gen(function*() {
        const seen = yield* Ref.make<ReadonlyArray<string>>([])
        const client = HttpClient.make((request) =>
          Effect.as(
            Ref.update(seen, (urls) => [...urls, request.url]),
            HttpClientResponse.fromWeb(request, respond(request))
          )
        )
        return { seen, layer: Layer.succeed(HttpClient.HttpClient, client) } as const
      })

    it.scoped("GETs the JSON form, again on each refresh", () =>
      Effect.gen(function*() {
        let n = 0
        const { layer, seen } = yield* fakeClient(() =>
          Response.json({ auth: `${AUTH}-${++n}`, ttl: 300, hosts: [{ hostname: "127.0.0.1:4100" }] })
        )
        const conn = yield* MediaConn.make(MediaConn.fromUrl(URL)).pipe(Effect.provide(layer))
        assert.strictEqual(Redacted.value((yield* conn.get).auth), `${AUTH}-1`)
        assert.strictEqual(Redacted.value((yield* conn.get).auth), `${AUTH}-1`)
        assert.strictEqual(Redacted.value((yield* conn.refresh).auth), `${AUTH}-2`)
        assert.deepStrictEqual(yield* Ref.get(seen), [URL, URL])
      }))

    it.effect("layerUrl takes the HttpClient from the context", () =>
      Effect.gen(function*() {
        const { layer } = yield* fakeClient(() =>
          Response.json({ auth: AUTH, ttl: 300, hosts: [{ hostname: "127.0.0.1:4100" }] })
        )
        const info = yield* Effect.flatMap(MediaConn.MediaConn, (conn) => conn.get).pipe(
          Effect.provide(MediaConn.layerUrl(URL).pipe(Layer.provide(layer)))
        )
        assert.strictEqual(Redacted.value(info.auth), AUTH)
      }))

    it.effect("turns a non-2xx, a malformed body and a transport error into MediaConnError", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<
          readonly [() => Response, MediaError.MediaConnError["reason"], string]
        > = [
          [() => new Response(`{"auth":"${AUTH}"}`, { status: 503 }), "SourceFailed", "answered 503"],
          [() => new Response("", { status: 401 }), "SourceFailed", "answered 401"],
          [() => new Response(`<html>${AUTH}</html>`, { status: 200 }), "Malformed", "not valid JSON"],
          [() => Response.json({ auth: AUTH, ttl: "x", hosts: [] }), "Malformed", "ttl"],
          [() => Response.json({ auth: AUTH, ttl: 1, hosts: [{ type: "primary" }] }), "NoHosts", "no usable host"]
        ]
        for (const [respond, reason, detail] of cases) {
          const { layer } = yield* fakeClient(respond)
          const error = yield* Effect.flip(MediaConn.fromUrl(URL)).pipe(Effect.provide(layer))
          assert.strictEqual(error._tag, "MediaConnError")
          assert.strictEqual(error.reason, reason)
          assert.include(error.message, detail)
          assert.notInclude(error.message, "other-secret")
          assertNoSecret(error)
        }

        const failing = HttpClient.make((request) =>
          Effect.fail(
            new HttpClientError.RequestError({
              request,
              reason: "Transport",
              description: `connect ECONNREFUSED for ${URL}`
            })
          )
        )
        const transport = yield* Effect.flip(MediaConn.fromUrl(URL)).pipe(
          Effect.provideService(HttpClient.HttpClient, failing)
        )
        assert.strictEqual(transport._tag, "MediaConnError")
        assert.strictEqual(transport.reason, "SourceFailed")
        assert.include(transport.message, "Transport")
        assert.include(transport.message, "ECONNREFUSED")
        assert.notInclude(transport.message, "other-secret")
      }))

    it.effect("times out a server that never answers", () =>
      Effect.gen(function*() {
        const silent = HttpClient.make(() => Effect.never)
        const fiber = yield* Effect.fork(
          MediaConn.fromUrl(URL, { timeout: "5 seconds" }).pipe(Effect.provideService(HttpClient.HttpClient, silent))
        )
        yield* TestClock.adjust("5 seconds")
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(exit)
        assert.strictEqual(error.reason, "SourceFailed")
        assert.include(error.message, "took longer than")
      }))
  })

  describe("fromFile", () => {
    const json = (auth: string) => JSON.stringify({ auth, ttl: 300, hosts: [{ hostname: "127.0.0.1:4100" }] })

    it.scoped("reads the JSON form, and reads the file again on refresh", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = (yield* Path.Path).join(yield* fs.makeTempDirectoryScoped(), "media_conn.json")
        yield* fs.writeFileString(path, json(`${AUTH}-1`))
        const conn = yield* MediaConn.make(MediaConn.fromFile(path))
        assert.strictEqual(Redacted.value((yield* conn.get).auth), `${AUTH}-1`)
        yield* fs.writeFileString(path, json(`${AUTH}-2`))
        assert.strictEqual(Redacted.value((yield* conn.get).auth), `${AUTH}-1`)
        assert.strictEqual(Redacted.value((yield* conn.refresh).auth), `${AUTH}-2`)

        yield* fs.writeFileString(path, `{"auth": "${AUTH}",`)
        const malformed = yield* Effect.flip(conn.refresh)
        assert.strictEqual(malformed.reason, "Malformed")
        assertNoSecret(malformed)
        // the failure was not cached and the previous value was dropped
        yield* fs.writeFileString(path, json(`${AUTH}-3`))
        assert.strictEqual(Redacted.value((yield* conn.get).auth), `${AUTH}-3`)
      }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer))))

    it.effect("a missing file is SourceFailed", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flatMap(MediaConn.MediaConn, (conn) => Effect.flip(conn.get)).pipe(
          Effect.provide(MediaConn.layerFile("/nonexistent/effect-wa-media/media_conn.json")),
          Effect.provide(NodeFileSystem.layer)
        )
        assert.strictEqual(error._tag, "MediaConnError")
        assert.strictEqual(error.reason, "SourceFailed")
        assert.include(error.message, "NotFound")
      }))
  })

  it.effect("keeps the auth token out of printed models", () =>
    Effect.sync(() => {
      const info: MediaConn.MediaConnInfo = { ...reply(), fetchedAt: 0 }
      assertNoSecret(info)
      assert.include(JSON.stringify(info), "mmg.whatsapp.net")
      assert.isTrue(Either.isRight(MediaConn.decodeJson(MediaConn.encodeJson(info))))
    }))
})
