/**
 * `wa-media serve`: the CDN emulator on 127.0.0.1 until the process is stopped.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as CdnEmulator from "../CdnEmulator.js"
import { UsageError } from "./CliOptions.js"

export const serve = Command.make(
  "serve",
  {
    port: Options.integer("port").pipe(
      Options.withDescription("the first port (the fallback host listens on the next one); a free port when absent"),
      Options.optional
    ),
    dir: Options.text("dir").pipe(
      Options.withDescription("keep blobs in this folder instead of memory"),
      Options.optional
    )
  },
  (args) =>
    Effect.gen(function*() {
      const port = Option.getOrElse(args.port, () => 0)
      if (!Number.isInteger(port) || port < 0 || port > 65534) {
        return yield* new UsageError({ message: `--port must be between 0 and 65534, got ${port}` })
      }
      const emulator = yield* CdnEmulator.make({
        port,
        ...(Option.isSome(args.dir) ? { dir: args.dir.value } : {})
      })
      yield* Console.log(emulator.baseUrl)
      yield* Console.error(
        `CDN emulator: hosts ${
          emulator.hosts.join(", ")
        }; media connection at ${emulator.mediaConnUrl}; stop with Ctrl-C`
      )
      return yield* Effect.never
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("run the CDN emulator on 127.0.0.1 until stopped; prints its base URL"))
