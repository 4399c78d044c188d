/**
 * `wa-media serve`: the CDN emulator on 127.0.0.1 until the process is stopped.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as CdnEmulator from "../CdnEmulator.js"
import { UsageError } from "./CliExit.js"
import type { ServeArgs } from "./Commands.js"

/** Runs `wa-media serve`. */
export const serve = (args: ServeArgs) =>
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
      `CDN emulator: hosts ${emulator.hosts.join(", ")}; media connection at ${emulator.mediaConnUrl}; stop with Ctrl-C`
    )
    return yield* Effect.never
  }).pipe(Effect.scoped)
