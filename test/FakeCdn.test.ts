import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
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
})
