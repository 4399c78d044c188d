/**
 * The `wa-media` command line: a thin layer over the public modules.
 */
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as MediaCrypto from "../MediaCrypto.js"
import { outcome } from "./CliExit.js"
import { decrypt, encrypt } from "./CryptoCommands.js"
import { demo } from "./DemoCommand.js"
import { download } from "./DownloadCommand.js"
import { serve } from "./ServeCommand.js"
import { upload } from "./UploadCommand.js"

const root = Command.make("wa-media").pipe(
  Command.withDescription("WhatsApp media: encrypt, decrypt, upload, download, and a CDN emulator"),
  Command.withSubcommands([demo, encrypt, decrypt, upload, download, serve])
)

const cli = Command.run(root, { name: "wa-media", version: "0.1.0" })

const layer = Layer.mergeAll(NodeContext.layer, MediaCrypto.layer)

/**
 * Runs the command line on `argv` (without the node and script paths) and returns the exit status,
 * having printed the `<ErrorTag>: <message>` line for a failure.
 */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number> =>
  Effect.suspend(() => cli(["node", "wa-media", ...argv])).pipe(
    Effect.provide(layer),
    Effect.exit,
    Effect.flatMap((exit) => {
      const { code, line } = outcome(exit)
      return line === undefined ? Effect.succeed(code) : Effect.as(Console.error(line), code)
    })
  )
