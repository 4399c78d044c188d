// The download case: a blob of `--size-mib` MiB fetched from a loopback server (a separate process)
// to a file with full verification (MAC, both SHA-256, length), by the library's
// `MediaDownload.toFile` over `NodeHttpClient.layerUndici`, next to a plain `fetch` + node:crypto
// baseline that verifies the same and writes to a temp file renamed at the end. The memory case
// keeps the same download in memory: `MediaDownload.bytes`, next to the same baseline joining its
// pieces with `Buffer.concat` at the end, as a Baileys user does.
//
// The burst cases: 200 downloads of one 4 MiB blob at once from the same loopback server, to sinks
// (`toSink`, counted and dropped), to Node writables (`toWritable`, counted and dropped) and to
// files, next to the same plain `fetch` baseline run 200 times at once. MB/s is the aggregate (all
// plaintext bytes over the burst's wall time), "grow" the RSS growth during the burst. Sinks and
// writables drop the same bytes: the two rows differ by what `toSink` costs on top of the download
// (`stream`'s reader fiber and queue), which a bot choosing an output needs to know.
//
// The small burst: 500 downloads of one 16 KiB blob at once to sinks, which measures what a
// download costs apart from its bytes (a burst of stickers or voice notes), timed after an untimed
// first burst in the same process.
//
// The "unverified" cases run the same library side next to what a peer that verifies nothing does
// (the same `fetch` and decipher, no MAC check, no hash): the yardstick of the download targets.
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Sink from "effect/Sink"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { rename } from "node:fs/promises"
import { join } from "node:path"
import { Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import { MediaConn, MediaCrypto, MediaDownload } from "../dist/index.js"
import * as Baseline from "./baseline.mjs"
import { freshOutput, HKDF_INFO, MEDIA_TYPE, paths } from "./crypto.mjs"

/** Starts the blob server in its own process; resolves with its port and a stop function. */
export const startServer = (file) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL("./blobServer.mjs", import.meta.url)), file], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.on("error", reject)
    child.stdout.setEncoding("utf8")
    child.stdout.once("data", (line) => resolve({ port: Number(line.trim()), stop: () => child.kill() }))
  })

const fromHex = (hex) => new Uint8Array(Buffer.from(hex, "hex"))

/** A burst: `count` downloads of one blob of `size` bytes, all asked at once. */
const LARGE_BURST = { count: 200, size: 4 * 1024 * 1024, label: "200x4MiB", name: "burst" }
// Stickers, voice notes, thumbnails: what a burst costs per download rather than per byte, in a
// process that already ran one (a bot's steady state; a fresh process mostly measures V8's warm-up).
const SMALL_BURST = { count: 500, size: 16 * 1024, label: "500x16KiB", name: "small-burst", warm: true }

/** The burst's blob (made once per bench folder), its values and a fresh output folder. */
const burstFiles = async (dir, burst) => {
  const plain = join(dir, `${burst.name}.plain`)
  const blob = join(dir, `${burst.name}.blob`)
  const metaFile = join(dir, `${burst.name}.json`)
  if (!existsSync(metaFile)) {
    writeFileSync(plain, randomBytes(burst.size))
    const mediaKey = randomBytes(32)
    const { fileEncSha256, fileSha256 } = await Baseline.encryptFile(
      Baseline.deriveKeys(mediaKey, HKDF_INFO),
      plain,
      blob
    )
    writeFileSync(
      metaFile,
      JSON.stringify({ mediaKey: mediaKey.toString("hex"), fileSha256, fileEncSha256, fileLength: burst.size })
    )
  }
  const outDir = join(dir, `${burst.name}-out`)
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir)
  return { blob, outDir, meta: JSON.parse(readFileSync(metaFile, "utf8")) }
}

/** The library's download layer and the media of `meta`, served by `server`. */
const libraryDownload = (server, meta) => ({
  media: {
    mediaType: MEDIA_TYPE,
    directPath: "/v/t62.7119-24/blob.enc",
    mediaKey: Redacted.make(fromHex(meta.mediaKey)),
    fileSha256: fromHex(meta.fileSha256),
    fileEncSha256: fromHex(meta.fileEncSha256),
    fileLength: meta.fileLength
  },
  layer: MediaDownload.layer.pipe(
    Layer.provide(
      MediaConn.layerTest({ auth: "", ttl: 3600, hosts: [{ hostname: `127.0.0.1:${server.port}` }] })
    ),
    Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, MediaCrypto.layer))
  )
})

/**
 * The plain-Node download: `fetch`, node:crypto verifying as it goes (unless `verify` is false), then
 * the plaintext to a temp file renamed at the end (`out` a path), kept and joined with
 * `Buffer.concat` at the end as a Baileys user does (`out` "memory"), or dropped (`out` undefined).
 * Resolves with the plaintext length.
 */
const baselineDownload = async (port, keys, meta, out, verify) => {
  const response = await fetch(`http://127.0.0.1:${port}/v/t62.7119-24/blob.enc`, {
    headers: { origin: "https://web.whatsapp.com" }
  })
  if (response.status !== 200) throw new Error(`baseline: status ${response.status}`)
  const decrypt = Baseline.makeDecrypt(keys, meta, verify)
  const pieces = out === "memory" ? [] : undefined
  const temp = out === undefined || pieces !== undefined ? undefined : `${out}.baseline.tmp`
  const file = temp === undefined ? undefined : createWriteStream(temp)
  const write = (bytes) => {
    pieces?.push(bytes)
    return file === undefined || file.write(bytes) ? undefined : new Promise((resolve) => file.once("drain", resolve))
  }
  for await (const chunk of response.body) {
    const plaintext = decrypt.update(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    if (plaintext.length > 0) await write(plaintext)
  }
  const { length, rest } = decrypt.final()
  if (rest.length > 0) await write(rest)
  if (file !== undefined) {
    await new Promise((resolve, reject) => file.end((error) => (error ? reject(error) : resolve())))
    await rename(temp, out)
  }
  return pieces === undefined ? length : Buffer.concat(pieces).length
}

/** A writable that drops what it is given. */
const nullWritable = () => new Writable({ write: (_chunk, _encoding, callback) => callback() })

/**
 * The timed run of a burst (`once` runs the burst, resolving with each download's plaintext length),
 * after an untimed one when the burst says `warm`; the server stops after it.
 */
const timedBurst = async (burst, target, outDir, server, once) => {
  if (burst.warm) await once()
  return async () => {
    try {
      const total = (await once()).reduce((a, b) => a + b, 0)
      return { bytes: total, check: `${total}/${target === "files" ? statSync(join(outDir, "out-0")).size : "-"}` }
    } finally {
      server.stop()
    }
  }
}

/**
 * A burst case to `target` ("sinks", "writables" or "files"); `verify` false for the unverified
 * baseline.
 */
const burstCase = (target, verify = true, burst = LARGE_BURST) => ({
  name: `download ${burst.label} to ${target}${verify ? "" : ", unverified"}`,
  sides: {
    library: async ({ dir }) => {
      const { blob, meta, outDir } = await burstFiles(dir, burst)
      const server = await startServer(blob)
      const { layer, media } = libraryDownload(server, meta)
      const counted = Sink.foldLeftChunks(0, (n, chunk) => {
        for (const piece of chunk) n += piece.length
        return n
      })
      return timedBurst(
        burst,
        target,
        outDir,
        server,
        () =>
          Effect.flatMap(MediaDownload.MediaDownload, (download) =>
            Effect.forEach(
              Array.from({ length: burst.count }, (_, i) => i),
              (i) =>
                target === "files"
                  ? Effect.map(
                    download.toFile(media, join(outDir, `out-${i}`), { protocol: "http" }),
                    (s) => s.fileLength
                  )
                  : target === "writables"
                  ? Effect.map(download.toWritable(media, nullWritable(), { protocol: "http" }), (s) => s.fileLength)
                  : download.toSink(media, counted, { protocol: "http" }),
              { concurrency: "unbounded" }
            )).pipe(Effect.provide(layer), Effect.runPromise)
      )
    },
    baseline: async ({ dir }) => {
      const { blob, meta, outDir } = await burstFiles(dir, burst)
      const server = await startServer(blob)
      const keys = Baseline.deriveKeys(Buffer.from(meta.mediaKey, "hex"), HKDF_INFO)
      return timedBurst(burst, target, outDir, server, () =>
        Promise.all(
          Array.from(
            { length: burst.count },
            (_, i) =>
              baselineDownload(
                server.port,
                keys,
                meta,
                target === "files" ? join(outDir, `out-${i}`) : undefined,
                verify
              )
          )
        ))
    }
  }
})

/**
 * The single download, to a file or kept in memory (`bytes`, next to the baseline's
 * `Buffer.concat`); `verify` false for the unverified baseline.
 */
const singleCase = (target, verify = true) => ({
  name: `download loopback to ${target}${verify ? "" : ", unverified"}`,
  sides: {
    library: async ({ dir, meta }) => {
      const { blob, out } = paths(dir)
      freshOutput(out)
      const server = await startServer(blob)
      const { layer, media } = libraryDownload(server, meta)
      return async () => {
        try {
          const length = await Effect.flatMap(MediaDownload.MediaDownload, (download) =>
            target === "file"
              ? Effect.map(download.toFile(media, out, { protocol: "http" }), (summary) => summary.fileLength)
              : Effect.map(download.bytes(media, { protocol: "http" }), (plaintext) => plaintext.length)).pipe(
              Effect.provide(layer),
              Effect.runPromise
            )
          return { bytes: meta.fileLength, check: singleCheck(target, length, out) }
        } finally {
          server.stop()
        }
      }
    },
    baseline: async ({ dir, meta }) => {
      const { blob, out } = paths(dir)
      freshOutput(out)
      const server = await startServer(blob)
      const keys = Baseline.deriveKeys(Buffer.from(meta.mediaKey, "hex"), HKDF_INFO)
      return async () => {
        try {
          const length = await baselineDownload(server.port, keys, meta, target === "file" ? out : "memory", verify)
          return { bytes: meta.fileLength, check: singleCheck(target, length, out) }
        } finally {
          server.stop()
        }
      }
    }
  }
})

/** What a single download's run reports to check: the plaintext length, and the file's size. */
const singleCheck = (target, length, out) => target === "file" ? `${length}/${statSync(out).size}` : `${length}`

export const cases = [
  singleCase("file"),
  singleCase("memory"),
  burstCase("sinks"),
  burstCase("writables"),
  burstCase("files"),
  singleCase("file", false),
  burstCase("sinks", false),
  burstCase("writables", false),
  burstCase("files", false),
  burstCase("sinks", true, SMALL_BURST),
  burstCase("sinks", false, SMALL_BURST)
]
