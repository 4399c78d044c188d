// `wa-media download` through the real built binary against an in-process emulator on loopback.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MediaEncryptor, MediaType } from "effect-wa-media"
import * as CdnEmulator from "effect-wa-media/CdnEmulator"
import { randomBytes } from "node:crypto"
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pseudoRandomBytes } from "./bytes.js"
import { lastLine, runCli } from "./cliHarness.js"

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")

const setup = Effect.gen(function*() {
  const cdn = yield* CdnEmulator.make()
  const dir = mkdtempSync(join(tmpdir(), "wa-media-cli-download-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const put = (plaintext: Uint8Array, type: MediaType.MediaType, mediaKey: Uint8Array) =>
    Effect.gen(function*() {
      const { blob, result } = yield* MediaEncryptor.encryptBytes(plaintext, { mediaType: type, mediaKey })
      const stored = yield* cdn.put(blob, { uploadPath: MediaType.info(type).uploadPath })
      return { blob, stored, result }
    })
  return { cdn, dir, put }
})

const conn = (cdn: CdnEmulator.CdnEmulator["Type"]) => ["--media-conn-url", cdn.mediaConnUrl, "--cdn-protocol", "http"]

describe("wa-media download", () => {
  it.live("downloads a message file and a server-hosted thumbnail, verified, atomically", () =>
    Effect.scoped(Effect.gen(function*() {
      const { cdn, dir, put } = yield* setup
      const mediaKey = new Uint8Array(randomBytes(32))
      const plaintext = pseudoRandomBytes(1, 400_000)
      const thumbnail = pseudoRandomBytes(2, 3_000)
      const main = yield* put(plaintext, "video", mediaKey)
      const thumb = yield* put(thumbnail, "video-thumbnail", mediaKey)
      const message = {
        videoMessage: {
          url: main.stored.url,
          directPath: main.stored.directPath,
          mediaKey: b64(mediaKey),
          fileSha256: b64(main.result.fileSha256),
          fileEncSha256: b64(main.result.fileEncSha256),
          fileLength: String(plaintext.length),
          thumbnailDirectPath: thumb.stored.directPath,
          thumbnailSha256: b64(thumb.result.fileSha256),
          thumbnailEncSha256: b64(thumb.result.fileEncSha256)
        }
      }
      writeFileSync(join(dir, "message.json"), JSON.stringify(message))
      const run = yield* runCli([
        "download",
        "-o",
        join(dir, "clip.mp4"),
        "--message",
        join(dir, "message.json"),
        ...conn(cdn)
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "clip.mp4"))), plaintext)
      assert.deepStrictEqual(JSON.parse(run.stdout), {
        path: join(dir, "clip.mp4"),
        mediaType: "video",
        fileLength: plaintext.length,
        fileSha256: b64(main.result.fileSha256),
        host: cdn.hosts[0],
        attempts: 1,
        resumes: 0
      })
      // No progress bar: stderr is not a terminal here.
      assert.strictEqual(run.stderr, "")
      writeFileSync(join(dir, "inner.json"), JSON.stringify(message.videoMessage))
      const thumbRun = yield* runCli([
        "download",
        "-o",
        join(dir, "thumb.jpg"),
        "--message",
        join(dir, "inner.json"),
        "--type",
        "video",
        "--thumbnail",
        ...conn(cdn)
      ])
      assert.strictEqual(thumbRun.code, 0, thumbRun.stderr)
      assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "thumb.jpg"))), thumbnail)
      assert.strictEqual(JSON.parse(thumbRun.stdout).mediaType, "video-thumbnail")
    })))

  it.live("downloads from raw parameters and hosts given directly, resuming a dropped connection", () =>
    Effect.scoped(Effect.gen(function*() {
      const { cdn, dir, put } = yield* setup
      const mediaKey = new Uint8Array(randomBytes(32))
      const plaintext = pseudoRandomBytes(3, 1_000_000)
      const { blob, result, stored } = yield* put(plaintext, "document", mediaKey)
      yield* cdn.injectFault({ _tag: "Drop", afterBytes: 300_000 })
      const run = yield* runCli([
        "download",
        "-o",
        join(dir, "doc.pdf"),
        "--type",
        "document",
        "--direct-path",
        stored.directPath,
        "--media-key",
        b64(mediaKey),
        "--file-enc-sha256",
        b64(result.fileEncSha256),
        "--file-sha256",
        b64(result.fileSha256),
        "--host",
        cdn.hosts[0]!,
        "--host",
        cdn.hosts[1]!,
        "--cdn-protocol",
        "http"
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "doc.pdf"))), plaintext)
      const summary = JSON.parse(run.stdout)
      assert.strictEqual(summary.resumes, 1)
      assert.strictEqual(summary.attempts, 2)
      const requests = (yield* cdn.requests).filter((r) => r.kind === "download")
      assert.deepStrictEqual(requests.map((r) => r.range), [undefined, "bytes=300000-"])
      assert.strictEqual(requests.reduce((n, r) => n + r.bytes, 0), blob.length)
    })))

  it.live("fails typed with no output file, and rejects bad usage with status 2", () =>
    Effect.scoped(Effect.gen(function*() {
      const { cdn, dir, put } = yield* setup
      const mediaKey = new Uint8Array(randomBytes(32))
      const { stored } = yield* put(pseudoRandomBytes(4, 100_000), "image", mediaKey)
      const args = [
        "download",
        "-o",
        join(dir, "out.jpg"),
        "--type",
        "image",
        "--direct-path",
        stored.directPath,
        "--media-key",
        b64(mediaKey),
        "--file-enc-sha256",
        b64(new Uint8Array(32)),
        ...conn(cdn)
      ]
      const failed = yield* runCli(args)
      assert.strictEqual(failed.code, 1)
      assert.strictEqual(lastLine(failed.stderr), "MediaIntegrityError: blob SHA-256 mismatch")
      assert.isFalse(existsSync(join(dir, "out.jpg")))
      assert.deepStrictEqual(readdirSync(dir), [])
      for (const host of cdn.hosts) yield* cdn.injectFault({ _tag: "Status", status: 410, times: 2 }, { host })
      const expired = yield* runCli(args)
      assert.strictEqual(expired.code, 1)
      assert.match(lastLine(expired.stderr), /^MediaDownloadError: download failed \(Expired\): 127\.0\.0\.1:\d+ 410/)
      assert.notInclude(expired.stderr, b64(mediaKey))
      const usage = yield* runCli(["download", "-o", join(dir, "x"), "--type", "image", ...conn(cdn)])
      assert.strictEqual(usage.code, 2)
      assert.match(lastLine(usage.stderr), /^UsageError: /)
      const both = yield* runCli([...args, "--host", cdn.hosts[0]!])
      assert.strictEqual(both.code, 2)
      assert.deepStrictEqual(readdirSync(dir), [])
      // The message JSON itself instead of its file: refused without repeating it (it holds the key).
      const inline = JSON.stringify({ imageMessage: { directPath: stored.directPath, mediaKey: b64(mediaKey) } })
      const pasted = yield* runCli(["download", "-o", join(dir, "x"), "--message", ` ${inline}`, ...conn(cdn)])
      assert.strictEqual(pasted.code, 2)
      assert.strictEqual(
        lastLine(pasted.stderr),
        "UsageError: --message takes the path of a file holding the message JSON, not the JSON itself"
      )
      assert.notInclude(pasted.stderr, b64(mediaKey))
      // The output may not be a file the download reads: checked before any request.
      yield* cdn.clearRequests
      const messageFile = join(dir, "message.json")
      const message = JSON.stringify({ imageMessage: { directPath: stored.directPath, mediaKey: b64(mediaKey) } })
      writeFileSync(messageFile, message)
      linkSync(messageFile, join(dir, "hardlink.json"))
      for (const output of [messageFile, join(dir, "hardlink.json")]) {
        const same = yield* runCli(["download", "-o", output, "--message", messageFile, ...conn(cdn)])
        assert.strictEqual(same.code, 1)
        assert.strictEqual(
          lastLine(same.stderr),
          `MediaFileError: cannot write ${output}: it is the same file as the input ${messageFile}`
        )
      }
      assert.strictEqual(readFileSync(messageFile, "utf8"), message)
      assert.deepStrictEqual(yield* cdn.requests, [])
    })))
})
