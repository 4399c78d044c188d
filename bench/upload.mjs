// The upload cases: the library uploads a plaintext file (hash pass, then encrypting straight into the
// request body), next to a plain node:http POST of the pre-encrypted blob, to two servers, each in its
// own process (started, untimed, by each side's setup) so that the measured client's peak RSS is its
// own: the CDN emulator with a folder store (it hashes the blob against its token and stores it, on
// the same two cores), and the lean sink of blobServer.mjs, which only counts what it receives.
//
// Plug in: in bench/index.mjs, `import * as Upload from "./upload.mjs"` and
// `const allCases = [...Crypto.cases, ...Upload.cases]`; then `npm run bench -- --size-mib 1024 --cases upload`.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createReadStream, readdirSync, statSync } from "node:fs"
import * as Http from "node:http"
import { tmpdir } from "node:os"
import { MediaConn, MediaCrypto, MediaUpload } from "../dist/index.js"
import { startEmulator } from "./cli.mjs"
import { MEDIA_TYPE, paths } from "./crypto.mjs"
import { startServer } from "./download.mjs"

const READ_SIZE = 256 * 1024

const getJson = (url) =>
  new Promise((resolve, reject) => {
    Http.get(url, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (data) => (text += data))
      response.on("end", () => resolve(JSON.parse(text)))
    }).on("error", reject)
  })

const spills = () => readdirSync(tmpdir()).filter((name) => name.startsWith("wa-media-upload-")).length

/** The library's upload of the plaintext file to the host that `mediaConnUrl` names. */
const libraryUpload = ({ dir, meta }, mediaConnUrl) => {
  const layer = MediaUpload.layer.pipe(
    Layer.provide(MediaConn.layerUrl(mediaConnUrl)),
    Layer.provide([NodeHttpClient.layerUndici, NodeFileSystem.layer, MediaCrypto.layer])
  )
  const spillsBefore = spills()
  let spillsDuring = -1
  return Effect.runPromise(
    Effect.flatMap(MediaUpload.MediaUpload, (uploads) =>
      uploads.upload(MediaUpload.file(paths(dir).plain), {
        mediaType: MEDIA_TYPE,
        mediaKey: Buffer.from(meta.mediaKey, "hex"),
        protocol: "http",
        onProgress: () =>
          Effect.sync(() => {
            if (spillsDuring < 0) spillsDuring = spills()
          })
      })).pipe(Effect.scoped, Effect.provide(layer))
  ).then((result) => {
    if (spillsDuring !== spillsBefore) throw new Error("a file source made a temp file")
    return result
  })
}

/**
 * The library's side against `server` (its base URL serves `/media_conn`); `verify` checks the
 * result against what the server saw.
 */
const librarySide = (context, server, verify = () => undefined) => async () => {
  try {
    const result = await libraryUpload(context, `${server.baseUrl}/media_conn`)
    verify(result)
    return { bytes: result.fileLength, check: Buffer.from(result.fileEncSha256).toString("hex") }
  } finally {
    server.stop()
  }
}

/** The lean sink of blobServer.mjs, with the base URL and stop function `startEmulator` gives. */
const startLeanSink = async ({ dir }) => {
  const { port, stop } = await startServer(paths(dir).blob)
  return { baseUrl: `http://127.0.0.1:${port}`, stop }
}

/** The lean sink answers with what it received in the path: the whole blob must have gone. */
const receivedOf = (directPath) => Number(new URL(directPath, "http://sink").searchParams.get("received"))

const library = async (context) => librarySide(context, await startEmulator())

const leanLibrary = async (context) => {
  const blobLength = statSync(paths(context.dir).blob).size
  return librarySide(context, await startLeanSink(context), (result) => {
    if (receivedOf(result.directPath) !== blobLength) throw new Error("the sink did not receive the whole blob")
  })
}

/** A plain node:http POST of the pre-encrypted blob; resolves with the reply's status and text. */
const postBlob = (url, blobPath) => {
  const length = statSync(blobPath).size
  return new Promise((resolve, reject) => {
    const request = Http.request(url, {
      method: "POST",
      headers: {
        origin: "https://web.whatsapp.com",
        "content-type": "application/octet-stream",
        "content-length": String(length)
      }
    }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (data) => (text += data))
      response.on("end", () => resolve({ status: response.statusCode, text }))
    })
    request.on("error", reject)
    createReadStream(blobPath, { highWaterMark: READ_SIZE }).on("error", reject).pipe(request)
  })
}

/** The baseline's POST to the first host of the media connection that `server` serves. */
const baselineSide = async ({ dir, meta }, server) => {
  const conn = await getJson(`${server.baseUrl}/media_conn`)
  const token = Buffer.from(meta.fileEncSha256, "hex").toString("base64url")
  const url = new URL(`http://${conn.hosts[0].hostname}/mms/document/${token}`)
  url.search = `auth=${encodeURIComponent(conn.auth)}&token=${token}`
  return async () => {
    try {
      const reply = await postBlob(url, paths(dir).blob)
      if (reply.status !== 200) throw new Error(`baseline upload answered ${reply.status}: ${reply.text}`)
      return { bytes: meta.fileLength, check: meta.fileEncSha256 }
    } finally {
      server.stop()
    }
  }
}

const baseline = async (context) => baselineSide(context, await startEmulator())

const leanBaseline = async (context) => baselineSide(context, await startLeanSink(context))

export const cases = [
  { name: "upload file to emulator", sides: { library, baseline } },
  { name: "upload file to lean sink", sides: { library: leanLibrary, baseline: leanBaseline } }
]
