import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { CdnEmulator } from "effect-wa-media"
import { scenarios, worldLayer } from "./cdnScenarios.js"

const emulatorWorld = (options: CdnEmulator.Options = {}) =>
  worldLayer(Effect.gen(function*() {
    const cdn = yield* CdnEmulator.make(options)
    const client = yield* HttpClient.HttpClient
    return { client, world: { cdn, scheme: "http" as const, mediaConnUrl: cdn.mediaConnUrl } }
  })).pipe(Layer.provide(NodeHttpClient.layerUndici))

describe("CdnEmulator", () => {
  describe("memory store", () => {
    scenarios(() => emulatorWorld(), { stall: "Live" })
  })
})
