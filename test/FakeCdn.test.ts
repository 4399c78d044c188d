import { describe } from "@effect/vitest"
import { Effect } from "effect"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import { scenarios, worldLayer } from "./cdnScenarios.js"

const fakeWorld = () =>
  worldLayer(
    Effect.map(FakeCdn.make(), ({ cdn, client }) => ({
      client,
      world: { cdn, scheme: "https" as const, mediaConnUrl: `https://${cdn.hosts[0]}/media_conn` }
    }))
  )

describe("FakeCdn", () => {
  scenarios(fakeWorld, { stall: "TestClock" })
})
