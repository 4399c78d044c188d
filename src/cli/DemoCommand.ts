/**
 * `wa-media demo`, the main job: the whole library at work against an in-process CDN emulator. It
 * uploads a file (or a generated sample large enough to be resumable), builds the message a
 * WhatsApp client would send, downloads that message back with progress, verifies it, and prints a
 * short report. The emulator is told to misbehave on the way (a failing host on upload, a dropped
 * connection on download) so that the report shows failover and resume, not only the happy path.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import type * as CdnControl from "../CdnControl.js"
import * as CdnEmulator from "../CdnEmulator.js"
import { equalBytes } from "../internal/bytes.js"
import { fileError } from "../internal/fileError.js"
import * as MediaConn from "../MediaConn.js"
import * as MediaCrypto from "../MediaCrypto.js"
import * as MediaDownload from "../MediaDownload.js"
import * as MediaMessage from "../MediaMessage.js"
import * as MediaUpload from "../MediaUpload.js"
import { httpClientLayer } from "./CdnAccess.js"
import * as CliCrypto from "./CliCrypto.js"
import { encodeBase64 } from "./CliOptions.js"
import type { DemoArgs } from "./Commands.js"
import * as ProgressBar from "./ProgressBar.js"

/** About 24 MiB: above the 5 MiB at which uploads become resumable. */
const SAMPLE_BYTES = 24 * 1024 * 1024
const SAMPLE_BLOCK = 1024 * 1024

/** Writes the sample from MediaCrypto's randomness (a blob of noise compresses and dedupes nowhere). */
const writeSample = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const crypto = yield* MediaCrypto.MediaCrypto
    const blocks = Stream.repeatEffect(crypto.randomBytes(SAMPLE_BLOCK)).pipe(Stream.take(SAMPLE_BYTES / SAMPLE_BLOCK))
    yield* Stream.run(blocks, fs.sink(path)).pipe(Effect.mapError(fileError("Write", path)))
  })

/** SHA-256 of a file, streamed. */
const sha256File = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const hash = createHash("sha256")
    yield* fs.stream(path, { chunkSize: 256 * 1024 }).pipe(
      Stream.runForEach((chunk) => Effect.sync(() => hash.update(chunk))),
      Effect.mapError(fileError("Read", path))
    )
    return new Uint8Array(hash.digest())
  })

const megabytesPerSecond = (bytes: number, millis: number) => (bytes / 1e6 / Math.max(millis, 1) * 1000).toFixed(1)

const seconds = (millis: number) => (millis / 1000).toFixed(2)

const bytesText = (n: number) => `${n.toLocaleString("en-US")} bytes (${(n / 1024 / 1024).toFixed(1)} MiB)`

/** One recorded request as the report shows it: host, what it was, and how it ended. */
const describeRequest = (request: CdnControl.RecordedRequest) => {
  const what = request.path.includes("resume=1")
    ? "resume probe"
    : request.path.includes("file_offset=")
    ? "upload from offset"
    : request.kind === "download" && request.range !== undefined
    ? `download ${request.range}`
    : request.kind
  const outcome = request.fault === "Drop" ? "connection dropped" : String(request.status ?? "no answer")
  return `${request.host} ${what}: ${outcome}`
}

/** Runs `wa-media demo`. */
export const demo = (args: DemoArgs) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const emulator = yield* CdnEmulator.make({ ports: 2 })
    const [primary, fallback] = emulator.hosts
    const work = yield* fs.makeTempDirectoryScoped({ prefix: "wa-media-demo-" }).pipe(
      Effect.mapError(fileError("Write", "a temporary folder"))
    )

    const input = Option.getOrElse(args.file, () => path.join(work, "sample.bin"))
    if (Option.isNone(args.file)) yield* writeSample(input)
    const inputSha256 = yield* sha256File(input)

    const services = Layer.mergeAll(MediaUpload.layer, MediaDownload.layer).pipe(
      Layer.provide(MediaConn.layerUrl(emulator.mediaConnUrl)),
      Layer.provide(httpClientLayer)
    )

    // The primary fails the probe and the first upload (the upload moves to the fallback host), and
    // drops the download's connection part-way (the download resumes where it broke).
    yield* emulator.injectFault({ _tag: "Status", status: 503, times: 2, on: "upload" }, { host: primary })

    const [uploadTime, uploaded] = yield* ProgressBar.track("upload   ", (progress) =>
      Effect.flatMap(MediaUpload.MediaUpload, (uploads) =>
        uploads.upload(MediaUpload.file(input), { mediaType: "document", protocol: "http", ...progress }))).pipe(
        Effect.provide(services),
        Effect.timed
      )
    const uploadMillis = Duration.toMillis(uploadTime)
    const uploadRequests = (yield* emulator.requests).filter((r) =>
      r.kind === "upload"
    )
    const blobLength = uploadRequests.reduce((n, r) => r.status === 200 ? Math.max(n, r.bytes) : n, 0)

    const message = yield* MediaMessage.document(uploaded, { fileName: path.basename(input) })
    yield* emulator.clearRequests
    yield* emulator.injectFault(
      { _tag: "Drop", afterBytes: Math.floor(uploaded.fileLength * 0.4), on: "download" },
      { host: primary }
    )

    const output = path.join(work, "downloaded")
    const [downloadTime, summary] = yield* ProgressBar.track("download ", (progress) =>
      Effect.flatMap(
        MediaDownload.MediaDownload,
        (downloads) => downloads.toFile(message, output, { protocol: "http", ...progress })
      )).pipe(Effect.provide(services), Effect.timed)
    const downloadMillis = Duration.toMillis(downloadTime)
    const downloadRequests = (yield* emulator.requests).filter((r) => r.kind === "download")

    const outputSha256 = yield* sha256File(output)
    const identical = equalBytes(outputSha256, inputSha256) && equalBytes(uploaded.fileSha256, inputSha256)
    if (!identical) return yield* Effect.dieMessage("the downloaded file differs from the input")

    const lines = [
      `wa-media demo: CDN emulator at ${emulator.baseUrl} (hosts ${primary}, ${fallback})`,
      `  input        ${input}${Option.isNone(args.file) ? " (generated sample)" : ""}, ${
        bytesText(uploaded.fileLength)
      }`,
      `  upload       ${bytesText(blobLength)} of encrypted blob in ${seconds(uploadMillis)} s, ${
        megabytesPerSecond(uploaded.fileLength, uploadMillis)
      } MB/s (encryption included)`,
      `               ${uploadRequests.map(describeRequest).join("; ")}`,
      `  message      documentMessage ${message.documentMessage.directPath ?? ""}`,
      `  download     ${bytesText(summary.fileLength)} in ${seconds(downloadMillis)} s, ${
        megabytesPerSecond(summary.fileLength, downloadMillis)
      } MB/s (decryption and verification included), from ${summary.host}`,
      `               ${downloadRequests.map(describeRequest).join("; ")}`,
      `               ${summary.attempts} requests, ${summary.resumes} resumed with Range, ${summary.restarts} restarts`,
      `  verified     MAC, fileSha256 and fileEncSha256 checked; the downloaded file equals the input`,
      `  fileSha256   ${encodeBase64(uploaded.fileSha256)}`,
      `  fileEncSha256 ${encodeBase64(uploaded.fileEncSha256)}`
    ]
    yield* Console.log(lines.join("\n"))
  }).pipe(Effect.scoped, Effect.provide(CliCrypto.layer))
