import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream, TestClock } from "effect"
import { MediaConn } from "effect-wa-media"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import { bytesOf, fetchMediaConn, scenarios, TestWorld, tokenOf, worldLayer } from "./cdnScenarios.js"

const fakeWorld = () =>
  worldLayer(
    Effect.map(FakeCdn.make(), ({ cdn, client }) => ({
      client,
      world: { cdn, scheme: "https" as const, mediaConnUrl: `https://${cdn.hosts[0]}/media_conn` }
    }))
  )

describe("FakeCdn", () => {
  scenarios(fakeWorld, { stall: "TestClock" })

  // Over a socket the client would first have to send its body; the fake sees the length at once.
  it.effect(
    "refuses a body larger than the memory store takes with 413, before reading it",
    () =>
      Effect.gen(function*() {
        const world = yield* TestWorld
        const client = yield* HttpClient.HttpClient
        const { auth } = yield* fetchMediaConn
        const token = tokenOf(bytesOf(1))
        const response = yield* client.execute(
          HttpClientRequest.post(
            `${world.scheme}://${world.cdn.hosts[0]}/mms/video/${token}?auth=${encodeURIComponent(auth)}&token=${token}`
          ).pipe(HttpClientRequest.bodyStream(Stream.never, { contentLength: 2 ** 31 }))
        )
        assert.strictEqual(response.status, 413)
      })
        .pipe(Effect.provide(fakeWorld()))
  )

  it.effect("takes a GET with a body as a GET, and refuses a header no HTTP request can carry", () =>
    Effect.gen(function*() {
      const { cdn, client } = yield* FakeCdn.make()
      const url = FakeCdn.mediaConnUrl(cdn)
      const withBody = yield* client.execute(
        HttpClientRequest.get(url).pipe(HttpClientRequest.bodyUint8Array(new Uint8Array(3)))
      )
      assert.strictEqual(withBody.status, 200)
      const refused = yield* Effect.flip(client.execute(
        HttpClientRequest.get(url).pipe(
          HttpClientRequest.setHeader("x-broken", "a\nb")
        )
      ))
      assert.strictEqual(refused._tag, "RequestError")
      assert.strictEqual(refused.reason, "Encode")
    }))

  it.effect("remove answers false for a path it does not hold, even one that is no URL", () =>
    Effect.gen(function*() {
      const { cdn } = yield* FakeCdn.make()
      const stored = yield* cdn.put(bytesOf(100))
      assert.isFalse(yield* cdn.remove("//["))
      assert.isFalse(yield* cdn.remove("/v/t62.7118-24/1_2_n.enc"))
      assert.isTrue(yield* cdn.remove(stored.directPath))
      assert.isFalse(yield* cdn.remove(stored.directPath))
    }))

  describe("layerWithMediaConn", () => {
    const mediaConnRequests = Effect.map(
      Effect.flatMap(FakeCdn.FakeCdn, (cdn) => cdn.requests),
      (requests) => requests.filter((r) => r.kind === "media_conn")
    )

    it.effect("fetches the media connection over the fake's HttpClient, recorded in requests", () =>
      Effect.gen(function*() {
        const cdn = yield* FakeCdn.FakeCdn
        const conn = yield* MediaConn.MediaConn
        const first = yield* conn.get
        const second = yield* conn.refresh
        assert.notStrictEqual(first.auth, second.auth)
        assert.deepStrictEqual(first.hosts.map((h) => h.hostname), [...cdn.hosts])
        const requests = yield* mediaConnRequests
        assert.deepStrictEqual(requests.map((r) => [r.host, r.method, r.path, r.status]), [
          [cdn.hosts[0], "GET", "/media_conn", 200],
          [cdn.hosts[0], "GET", "/media_conn", 200]
        ])
      }).pipe(Effect.provide(FakeCdn.layerWithMediaConn())))

    it.effect("honours a Status fault on media_conn: the fetch fails, and is not cached", () =>
      Effect.gen(function*() {
        const cdn = yield* FakeCdn.FakeCdn
        const conn = yield* MediaConn.MediaConn
        yield* cdn.injectFault({ _tag: "Status", status: 503, on: "media_conn" })
        const failed = yield* Effect.flip(conn.get)
        assert.strictEqual(failed._tag, "MediaConnError")
        assert.strictEqual(failed.reason, "SourceFailed")
        assert.include(failed.message, "503")
        const info = yield* conn.get
        assert.deepStrictEqual(info.hosts.map((h) => h.hostname), [...cdn.hosts])
        const requests = yield* mediaConnRequests
        assert.deepStrictEqual(requests.map((r) => [r.status, r.fault]), [[503, "Status"], [200, undefined]])
      }).pipe(Effect.provide(FakeCdn.layerWithMediaConn())))

    it.effect("honours a Stall fault on media_conn: the fetch times out on Effect's Clock", () =>
      Effect.gen(function*() {
        const cdn = yield* FakeCdn.FakeCdn
        const conn = yield* MediaConn.MediaConn
        yield* cdn.injectFault({ _tag: "Stall", on: "media_conn" })
        const fiber = yield* Effect.fork(Effect.flip(conn.get))
        yield* TestClock.adjust("30 seconds")
        const failed = yield* Fiber.join(fiber)
        assert.strictEqual(failed.reason, "SourceFailed")
        assert.include(failed.message, "took longer than")
      }).pipe(Effect.provide(FakeCdn.layerWithMediaConn())))
  })
})
