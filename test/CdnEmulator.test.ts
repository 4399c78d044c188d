import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Layer, Option, Scope, Stream } from "effect"
import { MediaConn, MediaCrypto, MediaDownload, MediaMessage, MediaUpload } from "effect-wa-media"
import * as CdnEmulator from "effect-wa-media/CdnEmulator"
import { createHash } from "node:crypto"
import { mkdtemp, readdir, rm } from "node:fs/promises"
import * as Http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  bytesOf,
  download,
  fetchMediaConn,
  scenarios,
  TestWorld,
  tokenOf,
  upload,
  uploadRequest,
  worldLayer
} from "./cdnScenarios.js"

const emulatorWorld = (options: CdnEmulator.Options = {}) =>
  worldLayer(Effect.gen(function*() {
    const cdn = yield* CdnEmulator.make(options)
    const client = yield* HttpClient.HttpClient
    return { client, world: { cdn, scheme: "http" as const, mediaConnUrl: cdn.mediaConnUrl } }
  })).pipe(Layer.provide(NodeHttpClient.layerUndici))

describe("CdnEmulator", () => {
  describe("memory store", () => {
    scenarios(() => emulatorWorld(), { stall: "Live" })
  })
})

const client = Effect.flatMap(HttpClient.HttpClient, (client) => Effect.succeed(client))

// A stream of `total` deterministic bytes in 64 KiB chunks, never held whole in memory.
const generated = (total: number) =>
  Stream.unfold(0, (offset) => {
    if (offset >= total) return Option.none()
    const size = Math.min(65536, total - offset)
    const chunk = new Uint8Array(size)
    chunk.fill(offset / 65536 & 0xff)
    return Option.some([chunk, offset + size] as const)
  })

const sha256Stream = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Stream.runFold(stream, createHash("sha256"), (hash, chunk) => hash.update(chunk)).pipe(
    Effect.map((hash) => hash.digest("base64url"))
  )

describe("CdnEmulator", () => {
  it.scoped("closes with a stalled connection open", () =>
    Effect.gen(function*() {
      const http = yield* client
      const scope = yield* Scope.make()
      const cdn = yield* CdnEmulator.make({ ports: 1 }).pipe(Scope.extend(scope))
      const stored = yield* cdn.put(new Uint8Array(10_000))
      yield* cdn.injectFault({ _tag: "Stall", afterBytes: 100 })
      const response = yield* http.get(`${cdn.baseUrl}${stored.directPath}`)
      assert.strictEqual(response.status, 200)
      const body = yield* Effect.fork(Stream.runDrain(response.stream))
      yield* Scope.close(scope, Exit.void)
      const result = yield* Fiber.await(body)
      assert.isTrue(Exit.isFailure(result))
      const refused = yield* Effect.either(http.get(`${cdn.baseUrl}/media_conn`))
      assert.isTrue(Either.isLeft(refused))
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  // A Node server stops reading a request it has answered: a client still sending the body would
  // wait on the socket forever (`node:http`'s does, until the upload's stall watchdog).
  it.live.each(
    [
      ["an injected status", "auth=a", { _tag: "Status", status: 503, on: "upload" }],
      ["a bad credential", "auth=wrong", undefined]
    ] as const
  )("reads an upload's body to its end when it refuses it with %s", ([, query, fault]) =>
    Effect.gen(function*() {
      const cdn = yield* CdnEmulator.make({ ports: 1 })
      if (fault !== undefined) yield* cdn.injectFault(fault)
      const part = new Uint8Array(1024 * 1024)
      const parts = 16
      const token = "A".repeat(43)
      // Parts paced as a file or a network source gives them: most go out after the answer came.
      const status = yield* Effect.async<number | undefined, Error>((resume) => {
        const request = Http.request(`${cdn.baseUrl}/mms/document/${token}?${query}&token=${token}`, {
          method: "POST",
          headers: { "content-length": String(part.length * parts) }
        })
        let status: number | undefined
        let finished = false
        const settle = () => {
          if (status !== undefined && finished) resume(Effect.succeed(status))
        }
        request.on("error", (error) => resume(Effect.fail(error)))
        request.on("response", (response) => {
          status = response.statusCode
          response.resume()
          settle()
        })
        request.on("finish", () => {
          finished = true
          settle()
        })
        let sent = 0
        const sendNext = (): void => {
          if (sent === parts) return void request.end()
          sent++
          if (request.write(part)) setTimeout(sendNext, 2)
          else request.once("drain", () => setTimeout(sendNext, 2))
        }
        sendNext()
        return Effect.sync(() => request.destroy())
      }).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("the body was never taken") }))
      assert.strictEqual(status, fault === undefined ? 401 : 503)
    }).pipe(Effect.scoped))

  it.scoped("listens on the port asked for, and its neighbours", () =>
    Effect.gen(function*() {
      const free = yield* CdnEmulator.make({ ports: 1 }).pipe(Effect.map((cdn) => cdn.ports[0]!), Effect.scoped)
      const cdn = yield* CdnEmulator.make({ port: free, ports: 1 })
      assert.deepStrictEqual(cdn.ports, [free])
      assert.strictEqual(cdn.baseUrl, `http://127.0.0.1:${free}`)
      assert.strictEqual(cdn.mediaConnUrl, `http://127.0.0.1:${free}/media_conn`)
      assert.deepStrictEqual(cdn.hosts, [`127.0.0.1:${free}`])
      const taken = yield* Effect.either(CdnEmulator.make({ port: free, ports: 1 }))
      assert.isTrue(Either.isLeft(taken) && taken.left._tag === "ServeError")
    }))

  describe("folder store", () => {
    it.scoped("streams uploads to files, resumes, serves ranges, and keeps blobs and links across restarts", () =>
      Effect.gen(function*() {
        const dir = yield* Effect.acquireRelease(
          Effect.promise(() => mkdtemp(join(tmpdir(), "cdn-emulator-"))),
          (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
        )
        const first = yield* Scope.make()
        const world = yield* Layer.buildWithScope(emulatorWorld({ dir }), first)
        const blob = bytesOf(1_000_000)
        const stored = yield* Effect.gen(function*() {
          const { cdn } = yield* TestWorld
          yield* cdn.injectFault({ _tag: "Drop", afterBytes: 300_000 })
          assert.isTrue(Either.isLeft(yield* Effect.either(uploadRequest(blob))))
          const probe = yield* upload(new Uint8Array(0), { token: tokenOf(blob), query: "&resume=1" })
          assert.deepStrictEqual(probe.json, { resume: "300000" })
          const done = yield* upload(blob, { body: blob.subarray(300_000), query: "&file_offset=300000" })
          assert.strictEqual(done.status, 200)
          const ranged = yield* download(done.json.direct_path!, { range: "bytes=999000-" })
          assert.strictEqual(ranged.response.status, 206)
          assert.deepStrictEqual(ranged.body, blob.subarray(999_000))
          return done.json.direct_path!
        }).pipe(Effect.provide(world))
        const files = yield* Effect.promise(() => readdir(join(dir, "blobs")))
        assert.deepStrictEqual(files, [tokenOf(blob)])
        yield* Scope.close(first, Exit.void)
        const again = yield* Layer.build(emulatorWorld({ dir }))
        const { body, response } = yield* download(stored).pipe(Effect.provide(again))
        assert.strictEqual(response.status, 200)
        assert.deepStrictEqual(body, blob)
      }))

    it.live("moves a large blob up and down in bounded memory", () =>
      Effect.gen(function*() {
        // CDN_BIG_BYTES=1073741824 checks a full GiB by hand (about 25 s here, RSS + 35 MiB).
        const total = Number(process.env.CDN_BIG_BYTES ?? 64 * 1024 * 1024)
        const dir = yield* Effect.acquireRelease(
          Effect.promise(() => mkdtemp(join(tmpdir(), "cdn-emulator-"))),
          (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
        )
        yield* Effect.gen(function*() {
          const { cdn } = yield* TestWorld
          const http = yield* client
          const token = yield* sha256Stream(generated(total))
          const { auth } = yield* fetchMediaConn
          const rssBefore = process.memoryUsage().rss
          let rssPeak = rssBefore
          const sample = <E>(stream: Stream.Stream<Uint8Array, E>) =>
            Stream.tap(stream, () =>
              Effect.sync(() => {
                rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
              }))
          const response = yield* http.execute(
            HttpClientRequest.post(
              `http://${cdn.hosts[0]}/mms/video/${token}?auth=${encodeURIComponent(auth)}&token=${token}`
            ).pipe(
              HttpClientRequest.bodyStream(sample(generated(total)), { contentLength: total })
            )
          )
          assert.strictEqual(response.status, 200)
          const { direct_path } = (yield* response.json) as { direct_path: string }
          const downloaded = yield* http.get(`http://${cdn.hosts[1]}${direct_path}`)
          assert.strictEqual(downloaded.headers["content-length"], String(total))
          assert.strictEqual(yield* sha256Stream(sample(downloaded.stream)), token)
          assert.isBelow(rssPeak - rssBefore, 128 * 1024 * 1024)
        }).pipe(Effect.provide(emulatorWorld({ dir })))
      }).pipe(Effect.scoped))
  })
})

describe("CdnEmulator.layerWithMediaConn", () => {
  it.effect("provides a MediaConn fetched from the emulator over HTTP, faults on media_conn honoured", () =>
    Effect.gen(function*() {
      const cdn = yield* CdnEmulator.CdnEmulator
      const conn = yield* MediaConn.MediaConn
      yield* cdn.injectFault({ _tag: "Status", status: 500, on: "media_conn" })
      const failed = yield* Effect.flip(conn.get)
      assert.strictEqual(failed.reason, "SourceFailed")
      const info = yield* conn.get
      assert.deepStrictEqual(info.hosts.map((h) => h.hostname), [...cdn.hosts])
      const requests = (yield* cdn.requests).filter((r) => r.kind === "media_conn")
      assert.deepStrictEqual(requests.map((r) => [r.host, r.status]), [[cdn.hosts[0], 500], [cdn.hosts[0], 200]])
    }).pipe(Effect.provide(CdnEmulator.layerWithMediaConn().pipe(Layer.provide(NodeHttpClient.layerUndici)))))
})

describe("CdnEmulator.layerTransfers", () => {
  it.live("uploads and downloads over the emulator with http by default, a call's protocol overriding it", () =>
    Effect.gen(function*() {
      const cdn = yield* CdnEmulator.CdnEmulator
      const uploads = yield* MediaUpload.MediaUpload
      const downloads = yield* MediaDownload.MediaDownload
      const photo = new Uint8Array(40_000).fill(3)
      const uploaded = yield* uploads.upload(MediaUpload.bytes(photo), { mediaType: "image" })
      assert.isTrue(Buffer.from(yield* downloads.bytes(uploaded)).equals(photo))
      const kinds = (yield* cdn.requests).map((r) => [r.kind, r.host, r.status])
      assert.deepStrictEqual(kinds, [
        ["media_conn", cdn.hosts[0], 200],
        ["upload", cdn.hosts[0], 200],
        ["download", cdn.hosts[0], 200]
      ])
      // A call's https against the plain-HTTP emulator: every host fails at TLS, none is reached.
      // (Read as a message, the upload's http:// url is no download candidate.)
      yield* cdn.clearRequests
      const failed = yield* Effect.either(downloads.bytes(MediaMessage.fromUpload(uploaded), { protocol: "https" }))
      assert.isTrue(Either.isLeft(failed) && failed.left._tag === "MediaDownloadError")
      assert.deepStrictEqual((yield* cdn.requests).filter((r) => r.kind === "download"), [])
    }).pipe(
      Effect.provide(
        CdnEmulator.layerTransfers().pipe(
          Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, MediaCrypto.layerTest(), NodeFileSystem.layer))
        )
      )
    ))
})
