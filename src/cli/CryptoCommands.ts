/**
 * `wa-media encrypt` and `wa-media decrypt`: offline, file to file, output written atomically.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as MediaCrypto from "../MediaCrypto.js"
import * as MediaFile from "../MediaFile.js"
import * as CliCrypto from "./CliCrypto.js"
import { decodeBase64, encodeBase64, parseMediaKey, parseMediaType, revealBase64 } from "./CliOptions.js"
import type { DecryptArgs, EncryptArgs } from "./Commands.js"

const optionalBytes = (name: string, value: Option.Option<string>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (text) => decodeBase64(name, text)
  })

/** Runs `wa-media encrypt`. */
export const encrypt = (args: EncryptArgs) =>
  Effect.gen(function*() {
    const type = yield* parseMediaType(args.type)
    const mediaKey = Option.isSome(args.mediaKey)
      ? yield* parseMediaKey(args.mediaKey.value)
      : yield* Effect.flatMap(MediaCrypto.MediaCrypto, (crypto) => crypto.generateMediaKey)
    const result = yield* MediaFile.encryptFile(args.input, args.output, {
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
  }).pipe(Effect.provide(CliCrypto.layer))

/** Runs `wa-media decrypt`. */
export const decrypt = (args: DecryptArgs) =>
  Effect.gen(function*() {
    const type = yield* parseMediaType(args.type)
    const mediaKey = yield* parseMediaKey(args.mediaKey)
    const fileSha256 = yield* optionalBytes("file-sha256", args.fileSha256)
    const fileEncSha256 = yield* optionalBytes("file-enc-sha256", args.fileEncSha256)
    yield* MediaFile.decryptFile(args.input, args.output, {
      mediaType: type,
      mediaKey,
      ...(fileSha256 === undefined ? {} : { fileSha256 }),
      ...(fileEncSha256 === undefined ? {} : { fileEncSha256 })
    })
  }).pipe(Effect.provide(CliCrypto.layer))
