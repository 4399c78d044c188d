import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { lastLine, runCli } from "./cliHarness.js"
import { hex, vectors } from "./vectors.js"

const withDir = <A, E>(use: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "wa-media-cli-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest()

describe("wa-media encrypt / decrypt", () => {
  it.effect("encrypts with a given key to the vector blob and prints the JSON line", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        for (const vector of vectors.vectors) {
          const input = join(dir, "plain")
          const output = join(dir, "blob")
          writeFileSync(input, hex(vector.plaintext_hex))
          const run = yield* runCli([
            "encrypt",
            input,
            output,
            "--type",
            vector.type.toLowerCase(),
            "--media-key",
            b64(hex(vectors.media_key))
          ])
          assert.strictEqual(run.code, 0, run.stderr)
          const json = JSON.parse(run.stdout.trim())
          assert.deepStrictEqual(Object.keys(json), [
            "mediaType",
            "mediaKey",
            "fileSha256",
            "fileEncSha256",
            "fileLength"
          ])
          assert.strictEqual(json.mediaKey, b64(hex(vectors.media_key)))
          assert.strictEqual(json.fileSha256, b64(hex(vector.file_sha256)))
          assert.strictEqual(json.fileEncSha256, b64(hex(vector.file_enc_sha256)))
          assert.strictEqual(json.fileLength, vector.file_length)
          assert.strictEqual(readFileSync(output).toString("hex"), vector.enc_file)
        }
      })
    ))

  it.effect("round trips a random file with a random key, a sidecar and both hashes checked", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const plaintext = randomBytes(300_000)
        writeFileSync(join(dir, "in"), plaintext)
        const encrypted = yield* runCli(["encrypt", join(dir, "in"), join(dir, "blob"), "--type", "ptv", "--sidecar"])
        assert.strictEqual(encrypted.code, 0, encrypted.stderr)
        const json = JSON.parse(encrypted.stdout)
        assert.strictEqual(json.mediaType, "video")
        assert.strictEqual(Buffer.from(json.mediaKey, "base64").length, 32)
        assert.strictEqual(Buffer.from(json.streamingSidecar, "base64").length, 10 * 5)
        assert.strictEqual(json.fileEncSha256, b64(sha256(readFileSync(join(dir, "blob")))))
        const decrypted = yield* runCli([
          "decrypt",
          join(dir, "blob"),
          join(dir, "out"),
          "--type",
          "video",
          "--media-key",
          json.mediaKey,
          "--file-sha256",
          json.fileSha256,
          "--file-enc-sha256",
          json.fileEncSha256
        ])
        assert.strictEqual(decrypted.code, 0, decrypted.stderr)
        assert.strictEqual(decrypted.stdout, "")
        assert.isTrue(readFileSync(join(dir, "out")).equals(plaintext))
      })
    ))

  it.effect("fails a tampered blob with MediaIntegrityError, exit 1, no output and no secret", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        writeFileSync(join(dir, "in"), randomBytes(100_000))
        const encrypted = yield* runCli(["encrypt", join(dir, "in"), join(dir, "blob"), "--type", "document"])
        const { mediaKey } = JSON.parse(encrypted.stdout)
        const blob = readFileSync(join(dir, "blob"))
        blob[5000] ^= 0x01
        writeFileSync(join(dir, "blob"), blob)
        const run = yield* runCli([
          "decrypt",
          join(dir, "blob"),
          join(dir, "out"),
          "--type",
          "document",
          "--media-key",
          mediaKey
        ])
        assert.strictEqual(run.code, 1)
        assert.strictEqual(lastLine(run.stderr), "MediaIntegrityError: MAC mismatch")
        assert.notInclude(run.stderr, mediaKey)
        assert.notInclude(run.stderr, "    at ")
        assert.deepStrictEqual(readdirSync(dir).sort(), ["blob", "in"])
      })
    ))

  it.effect("names a plaintext hash mismatch", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        writeFileSync(join(dir, "in"), randomBytes(1000))
        const { mediaKey } = JSON.parse(
          (yield* runCli(["encrypt", join(dir, "in"), join(dir, "blob"), "--type", "image"])).stdout
        )
        const run = yield* runCli([
          "decrypt",
          join(dir, "blob"),
          join(dir, "out"),
          "--type",
          "image",
          "--media-key",
          mediaKey,
          "--file-sha256",
          b64(sha256(new Uint8Array([1])))
        ])
        assert.strictEqual(run.code, 1)
        assert.match(lastLine(run.stderr), /^MediaIntegrityError: plaintext SHA-256 mismatch/)
        assert.isFalse(existsSync(join(dir, "out")))
      })
    ))

  it.effect("answers bad usage with exit 2 and a one-line reason", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        writeFileSync(join(dir, "in"), "hello")
        const key = b64(randomBytes(32))
        const cases: ReadonlyArray<[ReadonlyArray<string>, RegExp]> = [
          [["encrypt", join(dir, "in"), join(dir, "out"), "--type", "hologram"], /^UsageError: unknown media type/],
          [
            ["encrypt", join(dir, "in"), join(dir, "out"), "--type", "image", "--media-key", b64(randomBytes(16))],
            /^UsageError: a media key must be 32 bytes, got 16/
          ],
          [
            ["decrypt", join(dir, "in"), join(dir, "out"), "--type", "image", "--media-key", "%%%"],
            /^UsageError: --media-key is not standard base64/
          ],
          [["decrypt", join(dir, "in"), join(dir, "out"), "--type", "image"], /^UsageError: .*--media-key/],
          [
            ["decrypt", join(dir, "in"), join(dir, "out"), "--type", "image", "--media-key", key, "--file-sha256", "x"],
            /^UsageError: --file-sha256/
          ],
          [["frobnicate"], /^UsageError: /]
        ]
        for (const [args, expected] of cases) {
          const run = yield* runCli(args)
          assert.strictEqual(run.code, 2, args.join(" "))
          assert.match(lastLine(run.stderr), expected)
          assert.notInclude(run.stderr, key)
        }
        assert.isFalse(existsSync(join(dir, "out")))
      })
    ))

  it.effect("fails a missing input with MediaFileError and exit 1", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const run = yield* runCli(["encrypt", join(dir, "missing"), join(dir, "out"), "--type", "audio"])
        assert.strictEqual(run.code, 1)
        assert.match(lastLine(run.stderr), /^MediaFileError: cannot read .*missing/)
        assert.isFalse(existsSync(join(dir, "out")))
      })
    ))

  it.effect("refuses an output that is the input (by name or through a link), exit 1, input untouched", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const input = join(dir, "in")
        const plaintext = randomBytes(50_000)
        writeFileSync(input, plaintext)
        symlinkSync(input, join(dir, "link"))
        const key = b64(randomBytes(32))
        const runs = [
          ["encrypt", input, input, "--type", "image"],
          ["encrypt", input, join(dir, "link"), "--type", "image", "--media-key", key],
          ["decrypt", input, join(dir, "link"), "--type", "image", "--media-key", key]
        ]
        for (const args of runs) {
          const run = yield* runCli(args)
          assert.strictEqual(run.code, 1, args.join(" "))
          assert.strictEqual(
            lastLine(run.stderr),
            `MediaFileError: cannot write ${args[2]}: it is the same file as the input ${input}`
          )
          assert.notInclude(run.stderr, key)
        }
        assert.deepStrictEqual(readFileSync(input), plaintext)
        assert.deepStrictEqual(readdirSync(dir).sort(), ["in", "link"])
      })
    ))

  it.effect("passes product-catalog-image through unencrypted, without a media key", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        writeFileSync(join(dir, "in"), "catalog")
        const run = yield* runCli(["encrypt", join(dir, "in"), join(dir, "out"), "--type", "product-catalog-image"])
        assert.strictEqual(run.code, 0, run.stderr)
        const json = JSON.parse(run.stdout)
        assert.isUndefined(json.mediaKey)
        assert.strictEqual(json.fileEncSha256, json.fileSha256)
        assert.strictEqual(readFileSync(join(dir, "out"), "utf8"), "catalog")
      })
    ))
})
