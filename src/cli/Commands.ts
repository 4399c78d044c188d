/**
 * The `wa-media` commands as the command line declares them: names, arguments, options and help.
 * What runs a command lives in its own module, imported only when that command runs, so that
 * `--help` or one command does not load what the others need (the HTTP client, the emulator, the
 * crypto pool).
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as Usage from "@effect/cli/Usage"
import * as Effect from "effect/Effect"

/** Runs `run` with the module `load` imports, once the command runs. */
const lazy = <M, E, R>(load: () => Promise<M>, run: (module: M) => Effect.Effect<void, E, R>) =>
  Effect.flatMap(Effect.promise(load), run)

const mediaType = Options.text("type").pipe(
  Options.withDescription("media type: a library name of docs/protocol.md section 1 or an alias (ptt, ptv, gif)")
)

const base64Bytes = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(`${description} (standard base64)`))

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/** Where the media connection comes from: `--media-conn-url URL` or `--media-conn FILE`. */
const mediaConnOptions = {
  mediaConnUrl: optionalText("media-conn-url", "GET this URL for the media connection JSON (asked again on refresh)"),
  mediaConnFile: optionalText("media-conn", "read the media connection JSON from this file (read again on refresh)")
}

/** `--cdn-protocol`: https, or http for loopback emulators. */
const cdnProtocol = Options.choice("cdn-protocol", ["https", "http"]).pipe(
  Options.withDescription("the scheme of CDN URLs; http is for loopback emulators only"),
  Options.withDefault("https" as const)
)

const input = Args.text({ name: "in" }).pipe(Args.withDescription("the input file"))
const output = Args.text({ name: "out" }).pipe(Args.withDescription("the output file (written atomically)"))

const encryptConfig = {
  input,
  output,
  type: mediaType,
  mediaKey: base64Bytes("media-key", "the 32-byte media key; a random one when absent").pipe(Options.optional),
  sidecar: Options.boolean("sidecar").pipe(Options.withDescription("also compute the streaming sidecar"))
}

/** The arguments of `wa-media encrypt`. */
export type EncryptArgs = Command.Command.ParseConfig<typeof encryptConfig>

const encryptSummary = "encrypt a file into a WhatsApp media blob"

const encrypt = Command.make(
  "encrypt",
  encryptConfig,
  (args) => lazy(() => import("./CryptoCommands.js"), (run) => run.encrypt(args))
).pipe(Command.withDescription(encryptSummary))

const decryptConfig = {
  input,
  output,
  type: mediaType,
  mediaKey: base64Bytes("media-key", "the 32-byte media key"),
  fileSha256: base64Bytes("file-sha256", "the expected SHA-256 of the plaintext").pipe(Options.optional),
  fileEncSha256: base64Bytes("file-enc-sha256", "the expected SHA-256 of the blob").pipe(Options.optional)
}

/** The arguments of `wa-media decrypt`. */
export type DecryptArgs = Command.Command.ParseConfig<typeof decryptConfig>

const decryptSummary = "verify a WhatsApp media blob and write its plaintext"

const decrypt = Command.make(
  "decrypt",
  decryptConfig,
  (args) => lazy(() => import("./CryptoCommands.js"), (run) => run.decrypt(args))
).pipe(Command.withDescription(decryptSummary))

const uploadConfig = {
  input: Args.text({ name: "in" }).pipe(Args.withDescription("the file to upload")),
  type: mediaType,
  ...mediaConnOptions,
  cdnProtocol,
  mediaKey: base64Bytes("media-key", "the 32-byte media key; a random one when absent").pipe(Options.optional)
}

/** The arguments of `wa-media upload`. */
export type UploadArgs = Command.Command.ParseConfig<typeof uploadConfig>

const uploadSummary = "encrypt a file and upload it to the CDN (resumable from 5 MiB); prints one JSON line"

const upload = Command.make(
  "upload",
  uploadConfig,
  (args) => lazy(() => import("./UploadCommand.js"), (run) => run.upload(args))
).pipe(Command.withDescription(uploadSummary))

const downloadConfig = {
  output: Options.text("output").pipe(
    Options.withAlias("o"),
    Options.withDescription("the output file (written atomically, only once verified)")
  ),
  message: optionalText(
    "message",
    "a JSON file with the message ({\"imageMessage\": {…}}, or the inner object with --type)"
  ),
  type: optionalText("type", "media type: a library name of docs/protocol.md section 1 or an alias"),
  directPath: optionalText("direct-path", "the blob's direct path"),
  mediaKey: base64Bytes("media-key", "the 32-byte media key").pipe(Options.optional),
  fileEncSha256: base64Bytes("file-enc-sha256", "the expected SHA-256 of the blob").pipe(Options.optional),
  fileSha256: base64Bytes("file-sha256", "the expected SHA-256 of the plaintext").pipe(Options.optional),
  ...mediaConnOptions,
  hosts: Options.text("host").pipe(
    Options.withDescription("a CDN host to download from (repeatable), instead of a media connection"),
    Options.repeated
  ),
  cdnProtocol,
  thumbnail: Options.boolean("thumbnail").pipe(Options.withDescription("fetch the server-hosted thumbnail instead"))
}

/** The arguments of `wa-media download`. */
export type DownloadArgs = Command.Command.ParseConfig<typeof downloadConfig>

const downloadSummary = "download, verify and write a media file atomically"

const download = Command.make(
  "download",
  downloadConfig,
  (args) => lazy(() => import("./DownloadCommand.js"), (run) => run.download(args))
).pipe(Command.withDescription(downloadSummary))

const serveConfig = {
  port: Options.integer("port").pipe(
    Options.withDescription("the first port (the fallback host listens on the next one); a free port when absent"),
    Options.optional
  ),
  dir: optionalText("dir", "keep blobs in this folder instead of memory")
}

/** The arguments of `wa-media serve`. */
export type ServeArgs = Command.Command.ParseConfig<typeof serveConfig>

const serveSummary = "run the CDN emulator on 127.0.0.1 until stopped; prints its base URL"

const serve = Command.make(
  "serve",
  serveConfig,
  (args) => lazy(() => import("./ServeCommand.js"), (run) => run.serve(args))
).pipe(Command.withDescription(serveSummary))

const demoConfig = {
  file: Args.text({ name: "file" }).pipe(
    Args.withDescription("the file to send; a generated sample of about 24 MiB when absent"),
    Args.optional
  )
}

/** The arguments of `wa-media demo`. */
export type DemoArgs = Command.Command.ParseConfig<typeof demoConfig>

const demoSummary =
  "the main job: upload a file (or a generated sample) to an in-process CDN emulator, download it back, verify, report"

const demo = Command.make(
  "demo",
  demoConfig,
  (args) => lazy(() => import("./DemoCommand.js"), (run) => run.demo(args))
).pipe(Command.withDescription(demoSummary))

/** What `wa-media` is, in one line. */
export const summary = "WhatsApp media: encrypt, decrypt, upload, download, and a CDN emulator"

/** A command as the help of `wa-media` lists it. */
export interface Listed {
  readonly name: string
  readonly usage: () => Usage.Usage
  readonly summary: string
}

/** The commands in the order the help lists them. */
export const commands: ReadonlyArray<Listed> = [
  { name: "demo", usage: () => Command.getUsage(demo), summary: demoSummary },
  { name: "encrypt", usage: () => Command.getUsage(encrypt), summary: encryptSummary },
  { name: "decrypt", usage: () => Command.getUsage(decrypt), summary: decryptSummary },
  { name: "upload", usage: () => Command.getUsage(upload), summary: uploadSummary },
  { name: "download", usage: () => Command.getUsage(download), summary: downloadSummary },
  { name: "serve", usage: () => Command.getUsage(serve), summary: serveSummary }
]

/** `wa-media` and its commands. */
export const root = Command.make("wa-media").pipe(
  Command.withDescription(summary),
  Command.withSubcommands([demo, encrypt, decrypt, upload, download, serve])
)
