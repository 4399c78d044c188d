// The download case: a blob of `--size-mib` MiB fetched from a loopback server (a separate process)
// to a file with full verification (MAC, both SHA-256, length), by the library's
// `MediaDownload.toFile` over `NodeHttpClient.layerUndici`, next to a plain `fetch` + node:crypto
// baseline that verifies the same and writes to a temp file renamed at the end.
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { createWriteStream, statSync } from "node:fs"
import { rename } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { MediaConn, MediaCrypto, MediaDownload } from "../dist/index.js"
import * as Baseline from "./baseline.mjs"
import { HKDF_INFO, MEDIA_TYPE, paths } from "./crypto.mjs"

/** Starts the blob server in its own process; resolves with its port and a stop function. */
const startServer = (file) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL("./blobServer.mjs", import.meta.url)), file], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.on("error", reject)
    child.stdout.setEncoding("utf8")
    child.stdout.once("data", (line) => resolve({ port: Number(line.trim()), stop: () => child.kill() }))
  })

const fromHex = (hex) => new Uint8Array(Buffer.from(hex, "hex"))

export const cases = [
  {
    name: "download loopback to file",
    sides: {
      library: async ({ dir, meta }) => {
        const { blob, out } = paths(dir)
        const server = await startServer(blob)
        const media = {
          mediaType: MEDIA_TYPE,
          directPath: "/v/t62.7119-24/blob.enc",
          mediaKey: Redacted.make(fromHex(meta.mediaKey)),
          fileSha256: fromHex(meta.fileSha256),
          fileEncSha256: fromHex(meta.fileEncSha256),
          fileLength: meta.fileLength
        }
        const layer = MediaDownload.layer.pipe(
          Layer.provide(
            MediaConn.layerTest({ auth: "", ttl: 3600, hosts: [{ hostname: `127.0.0.1:${server.port}` }] })
          ),
          Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, MediaCrypto.layer))
        )
        return async () => {
          try {
            const summary = await Effect.flatMap(
              MediaDownload.MediaDownload,
              (download) => download.toFile(media, out, { protocol: "http" })
            ).pipe(Effect.provide(layer), Effect.runPromise)
            return { bytes: meta.fileLength, check: `${summary.fileLength}/${statSync(out).size}` }
          } finally {
            server.stop()
          }
        }
      },
      baseline: async ({ dir, meta }) => {
        const { blob, out } = paths(dir)
        const server = await startServer(blob)
        const keys = Baseline.deriveKeys(Buffer.from(meta.mediaKey, "hex"), HKDF_INFO)
        return async () => {
          try {
            const response = await fetch(`http://127.0.0.1:${server.port}/v/t62.7119-24/blob.enc`, {
              headers: { origin: "https://web.whatsapp.com" }
            })
            if (response.status !== 200) throw new Error(`baseline: status ${response.status}`)
            const decrypt = Baseline.makeDecrypt(keys, meta)
            const temp = `${out}.baseline.tmp`
            const file = createWriteStream(temp)
            const write = (bytes) =>
              file.write(bytes) ? undefined : new Promise((resolve) => file.once("drain", resolve))
            for await (const chunk of response.body) {
              const plaintext = decrypt.update(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
              if (plaintext.length > 0) await write(plaintext)
            }
            const { length, rest } = decrypt.final()
            if (rest.length > 0) await write(rest)
            await new Promise((resolve, reject) => file.end((error) => (error ? reject(error) : resolve())))
            await rename(temp, out)
            return { bytes: meta.fileLength, check: `${length}/${statSync(out).size}` }
          } finally {
            server.stop()
          }
        }
      }
    }
  }
]
