// `wa-media upload` through the real built binary, against an in-process emulator.
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MediaDecryptor } from "effect-wa-media"
import * as CdnEmulator from "effect-wa-media/CdnEmulator"
import { createHash, randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { lastLine, runCli } from "./cliHarness.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "wa-media-cli-upload-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")
const fromB64 = (text: string) => new Uint8Array(Buffer.from(text, "base64"))

const fetchBlob = (url: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => client.get(url)).pipe(
    Effect.flatMap((response) => response.arrayBuffer),
    Effect.map((buffer) => new Uint8Array(buffer)),
    Effect.provide(NodeHttpClient.layerUndici)
  )

describe("wa-media upload", () => {
  it.scoped("uploads a video with a given key; the stored blob decrypts to the file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const cdn = yield* CdnEmulator.make()
      const plaintext = new Uint8Array(randomBytes(200_000))
      const input = join(dir, "clip.mp4")
      writeFileSync(input, plaintext)
      const mediaKey = new Uint8Array(randomBytes(32))
      const run = yield* runCli([
        "upload",
        input,
        "--type",
        "video",
        "--media-conn-url",
        cdn.mediaConnUrl,
        "--cdn-protocol",
        "http",
        "--media-key",
        b64(mediaKey)
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      const lines = run.stdout.trim().split("\n")
      assert.strictEqual(lines.length, 1)
      const json = JSON.parse(lines[0]!)
      assert.deepStrictEqual(Object.keys(json), [
        "url",
        "directPath",
        "mediaKey",
        "fileSha256",
        "fileEncSha256",
        "fileLength",
        "mediaKeyTimestamp",
        "streamingSidecar"
      ])
      assert.strictEqual(json.mediaKey, b64(mediaKey))
      assert.strictEqual(json.fileLength, plaintext.length)
      assert.strictEqual(json.fileSha256, createHash("sha256").update(plaintext).digest("base64"))
      assert.isTrue(Math.abs(json.mediaKeyTimestamp - Date.now() / 1000) < 120)
      const blob = yield* fetchBlob(`${cdn.baseUrl}${json.directPath}`)
      const decrypted = yield* MediaDecryptor.decryptBytes(blob, {
        mediaType: "video",
        mediaKey: fromB64(json.mediaKey),
        fileSha256: fromB64(json.fileSha256),
        fileEncSha256: fromB64(json.fileEncSha256),
        fileLength: json.fileLength
      })
      assert.isTrue(Buffer.from(decrypted).equals(plaintext))
    }), { timeout: 30_000 })

  it.scoped("a media connection from a file, a random key, and a 500 at the primary", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const cdn = yield* CdnEmulator.make()
      const connFile = join(dir, "media_conn.json")
      writeFileSync(connFile, JSON.stringify(yield* cdn.mediaConn))
      yield* cdn.injectFault({ _tag: "Status", status: 500 })
      const plaintext = new Uint8Array(randomBytes(1000))
      writeFileSync(join(dir, "photo.jpg"), plaintext)
      const run = yield* runCli([
        "upload",
        join(dir, "photo.jpg"),
        "--type",
        "image",
        "--media-conn",
        connFile,
        "--cdn-protocol",
        "http"
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      const json = JSON.parse(run.stdout)
      assert.isUndefined(json.streamingSidecar)
      assert.strictEqual(fromB64(json.mediaKey).length, 32)
      const requests = (yield* cdn.requests).filter((r) => r.kind === "upload")
      assert.deepStrictEqual(requests.map((r) => r.status), [500, 200])
      const blob = yield* fetchBlob(json.url)
      const decrypted = yield* MediaDecryptor.decryptBytes(blob, {
        mediaType: "image",
        mediaKey: fromB64(json.mediaKey),
        fileEncSha256: fromB64(json.fileEncSha256)
      })
      assert.isTrue(Buffer.from(decrypted).equals(plaintext))
    }), { timeout: 30_000 })

  it.scoped(
    "every host failing (503, then TLS against plain HTTP): exit 1, the attempts on the last stderr line, no auth token",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const cdn = yield* CdnEmulator.make()
        const connFile = join(dir, "media_conn.json")
        const conn = yield* cdn.mediaConn
        writeFileSync(connFile, JSON.stringify(conn))
        for (const host of cdn.hosts) yield* cdn.injectFault({ _tag: "Status", status: 503 }, { host })
        writeFileSync(join(dir, "doc.pdf"), randomBytes(100))
        const args = ["upload", join(dir, "doc.pdf"), "--type", "document", "--media-conn", connFile]
        const run = yield* runCli([...args, "--cdn-protocol", "http"])
        assert.strictEqual(run.code, 1)
        assert.strictEqual(run.stdout, "")
        const line = lastLine(run.stderr)
        assert.match(line, /^MediaUploadError: upload failed \(AllHostsFailed\)/)
        assert.include(line, `${cdn.hosts[0]} 503`)
        assert.include(line, `${cdn.hosts[1]} 503`)
        assert.notInclude(run.stderr, conn.auth)
        // https (the default) against the plain-HTTP emulator: the TLS error says what to do.
        yield* cdn.clearFaults()
        const tls = yield* runCli(args)
        assert.strictEqual(tls.code, 1)
        assert.match(
          lastLine(tls.stderr),
          /^MediaUploadError: upload failed \(AllHostsFailed\): 127\.0\.0\.1:\d+ transport error: TLS ERR_SSL_\w+ \(the host may speak plain HTTP: protocol "http", --cdn-protocol http\)/
        )
        assert.notInclude(tls.stderr, conn.auth)
        assert.notInclude(tls.stderr, encodeURIComponent(conn.auth))
      }),
    { timeout: 30_000 }
  )

  it.effect(
    "bad usage: both media connection sources, or neither, or a bad type: exit 2",
    () =>
      Effect.gen(function*() {
        const both = yield* runCli([
          "upload",
          "x",
          "--type",
          "image",
          "--media-conn-url",
          "http://a",
          "--media-conn",
          "f"
        ])
        assert.strictEqual(both.code, 2)
        assert.match(lastLine(both.stderr), /^UsageError: /)
        const neither = yield* runCli(["upload", "x", "--type", "image"])
        assert.strictEqual(neither.code, 2)
        const badType = yield* runCli(["upload", "x", "--type", "nope", "--media-conn", "f"])
        assert.strictEqual(badType.code, 2)
        assert.match(lastLine(badType.stderr), /^UsageError: /)
      }),
    { timeout: 30_000 }
  )

  it.scoped("a missing input file: exit 1 with a MediaFileError", () =>
    Effect.gen(function*() {
      const cdn = yield* CdnEmulator.make()
      const run = yield* runCli([
        "upload",
        "/nonexistent/wa-media/in",
        "--type",
        "image",
        "--media-conn-url",
        cdn.mediaConnUrl,
        "--cdn-protocol",
        "http"
      ])
      assert.strictEqual(run.code, 1)
      assert.match(lastLine(run.stderr), /^MediaFileError: cannot read \/nonexistent\/wa-media\/in/)
    }), { timeout: 30_000 })
})
