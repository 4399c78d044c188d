/**
 * `wa-media encrypt` and `wa-media decrypt`: offline, file to file, output written atomically.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as MediaCrypto from "../MediaCrypto.js"
import * as MediaDecryptor from "../MediaDecryptor.js"
import * as MediaEncryptor from "../MediaEncryptor.js"
import {
  base64Bytes,
  decodeBase64,
  encodeBase64,
  mediaType,
  parseMediaKey,
  parseMediaType,
  revealBase64
} from "./CliOptions.js"

const input = Args.text({ name: "in" }).pipe(Args.withDescription("the input file"))
const output = Args.text({ name: "out" }).pipe(Args.withDescription("the output file (written atomically)"))

const optionalBytes = (name: string, value: Option.Option<string>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (text) => decodeBase64(name, text)
  })

export const encrypt = Command.make(
  "encrypt",
  {
    input,
    output,
    type: mediaType,
    mediaKey: base64Bytes("media-key", "the 32-byte media key; a random one when absent").pipe(Options.optional),
    sidecar: Options.boolean("sidecar").pipe(Options.withDescription("also compute the streaming sidecar"))
  },
  (args) =>
    Effect.gen(function*() {
      const type = yield* parseMediaType(args.type)
      const mediaKey = Option.isSome(args.mediaKey)
        ? yield* parseMediaKey(args.mediaKey.value)
        : yield* Effect.flatMap(MediaCrypto.MediaCrypto, (crypto) => crypto.generateMediaKey)
      const result = yield* MediaEncryptor.encryptFile(args.input, args.output, {
        mediaType: type,
        mediaKey,
        sidecar: args.sidecar
      })
      yield* Console.log(JSON.stringify({
        mediaType: result.mediaType,
        ...(result.mediaKey === undefined ? {} : { mediaKey: revealBase64(result.mediaKey) }),
        fileSha256: encodeBase64(result.fileSha256),
        fileEncSha256: encodeBase64(result.fileEncSha256),
        fileLength: result.fileLength,
        ...(args.sidecar && result.streamingSidecar !== undefined
          ? { streamingSidecar: encodeBase64(result.streamingSidecar) }
          : {})
      }))
    })
).pipe(Command.withDescription("encrypt a file into a WhatsApp media blob"))

export const decrypt = Command.make(
  "decrypt",
  {
    input,
    output,
    type: mediaType,
    mediaKey: base64Bytes("media-key", "the 32-byte media key"),
    fileSha256: base64Bytes("file-sha256", "the expected SHA-256 of the plaintext").pipe(Options.optional),
    fileEncSha256: base64Bytes("file-enc-sha256", "the expected SHA-256 of the blob").pipe(Options.optional)
  },
  (args) =>
    Effect.gen(function*() {
      const type = yield* parseMediaType(args.type)
      const mediaKey = yield* parseMediaKey(args.mediaKey)
      const fileSha256 = yield* optionalBytes("file-sha256", args.fileSha256)
      const fileEncSha256 = yield* optionalBytes("file-enc-sha256", args.fileEncSha256)
      yield* MediaDecryptor.decryptFile(args.input, args.output, {
        mediaType: type,
        mediaKey,
        ...(fileSha256 === undefined ? {} : { fileSha256 }),
        ...(fileEncSha256 === undefined ? {} : { fileEncSha256 })
      })
    })
).pipe(Command.withDescription("verify a WhatsApp media blob and write its plaintext"))
