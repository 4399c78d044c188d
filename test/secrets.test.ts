// No secret in any span, log or error: every path of an upload and a download (first try, resume
// probe, file_offset continuation, 401/403 refresh, failover, all hosts failing, interruption), over
// the fake CDN and over the emulator on loopback, with a recording tracer and a capturing logger.
import { HttpClient } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Fiber, Layer, Redacted, Sink, Stream } from "effect"
import type { Scope } from "effect"
import type { CdnControl, MediaType } from "effect-wa-media"
import {
  MediaConn,
  MediaCrypto,
  MediaDecryptor,
  MediaDownload,
  MediaEncryptor,
  MediaFile,
  MediaKeys,
  MediaMessage,
  MediaUpload
} from "effect-wa-media"
import * as CdnEmulator from "effect-wa-media/CdnEmulator"
import * as FakeCdn from "effect-wa-media/testing/FakeCdn"
import * as FakePhone from "effect-wa-media/testing/FakePhone"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { bytesOf } from "./cdnScenarios.js"
import * as Telemetry from "./telemetry.js"

const RESUMABLE = 5 * 1024 * 1024 + 4321

interface World {
  readonly cdn: CdnControl.CdnControl
  readonly protocol: "http" | "https"
  readonly uploads: MediaUpload.MediaUpload["Type"]
  readonly downloads: MediaDownload.MediaDownload["Type"]
}

/** The services over `base` (a transport and a media connection), with the telemetry's spies in between. */
const services = (
  telemetry: Telemetry.Telemetry,
  base: Layer.Layer<MediaConn.MediaConn | HttpClient.HttpClient>
) =>
  Effect.map(
    Layer.build(
      Layer.mergeAll(MediaUpload.layer, MediaDownload.layer).pipe(
        Layer.provide(Layer.merge(telemetry.wire, telemetry.mediaConn)),
        Layer.provide(base),
        Layer.provide([MediaCrypto.layerTest(), NodeFileSystem.layer])
      )
    ),
    (context) => ({
      uploads: Context.get(context, MediaUpload.MediaUpload),
      downloads: Context.get(context, MediaDownload.MediaDownload)
    })
  )

const fakeWorld = (telemetry: Telemetry.Telemetry) =>
  Effect.gen(function*() {
    const { cdn, client } = yield* FakeCdn.make()
    const base = FakeCdn.layerMediaConn.pipe(
      Layer.provide(Layer.succeed(FakeCdn.FakeCdn, cdn)),
      Layer.provideMerge(Layer.succeed(HttpClient.HttpClient, client))
    )
    return { cdn, protocol: "https" as const, ...(yield* services(telemetry, base)) } satisfies World
  })

/**
 * The emulator world; `hosts` puts other hosts first in its media connection, `traced` runs the
 * emulator's own server under the recording tracer too.
 */
const emulatorWorld = (telemetry: Telemetry.Telemetry, hosts: ReadonlyArray<string> = [], traced = false) =>
  Effect.gen(function*() {
    const cdn = yield* (traced ? Effect.provide(CdnEmulator.make(), telemetry.layer) : CdnEmulator.make())
    const conn = hosts.length === 0
      ? MediaConn.layerUrl(cdn.mediaConnUrl)
      : MediaConn.layer(Effect.flatMap(cdn.mediaConn, (json) =>
        MediaConn.fromValue({
          ...json,
          hosts: [...hosts.map((hostname) => ({ hostname, type: "primary" as const })), ...(json.hosts ?? [])]
        })))
    const base = conn.pipe(Layer.provideMerge(NodeHttpClient.layerUndici))
    return { cdn, protocol: "http" as const, ...(yield* services(telemetry, base)) } satisfies World
  })

interface Case {
  readonly name: string
  readonly mediaType: MediaType.MediaType
  readonly run: (world: World) => Effect.Effect<Exit.Exit<unknown, unknown>, never, Scope.Scope>
  readonly check?: (telemetry: Telemetry.Telemetry, world: World, exit: Exit.Exit<unknown, unknown>) => void
}

const mediaKey = bytesOf(32, 99)

const upload = (world: World, size: number, mediaType: MediaType.MediaType = "document") =>
  world.uploads.upload(MediaUpload.bytes(bytesOf(size)), { mediaType, mediaKey, protocol: world.protocol })

/** Uploads a blob (outside what is checked) and returns its message. */
const uploaded = (world: World, size: number) =>
  Effect.flatMap(Effect.orDie(upload(world, size)), (result) => Effect.orDie(MediaMessage.document(result, {})))

/** Runs `program` to its exit, logging a failure as an application would. */
const outcome = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  program.pipe(Effect.tapErrorCause((cause) => Effect.logError("transfer failed", cause)), Effect.exit)

/** Waits, without a clock, until the CDN has seen `n` requests of `kind`. */
const awaitRequests = (cdn: CdnControl.CdnControl, kind: "upload" | "download", n: number) =>
  Effect.repeat(Effect.zipRight(Effect.yieldNow(), cdn.requests), {
    until: (requests) => requests.filter((r) => r.kind === kind).length >= n
  })

const interrupted = <A, E>(world: World, kind: "upload" | "download", program: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    yield* world.cdn.injectFault({ _tag: "Stall", on: kind })
    const fiber = yield* Effect.fork(outcome(program))
    yield* awaitRequests(world.cdn, kind, 1)
    yield* Fiber.interrupt(fiber)
    return yield* Fiber.await(fiber)
  })

const cases: ReadonlyArray<Case> = [
  {
    name: "upload, first try",
    mediaType: "document",
    run: (world) => outcome(upload(world, 70_000)),
    check: (telemetry, world) => {
      const posts = Telemetry.spansNamed(telemetry, "http.client POST")
      assert.strictEqual(posts.length, 1)
      assert.include(String(posts[0]!.attributes.get("url.full")), "auth=REDACTED")
      assert.include(String(posts[0]!.attributes.get("url.query")), "auth=REDACTED")
      assert.strictEqual(posts[0]!.attributes.get("http.response.status_code"), 200)
      const [operation] = Telemetry.spansNamed(telemetry, "MediaUpload.upload")
      assert.deepStrictEqual(Telemetry.pick(operation, Telemetry.operationKeys), {
        "media.type": "document",
        "media.blob_length": MediaEncryptor.blobLength("document", 70_000),
        "media.file_length": 70_000,
        "cdn.host": world.cdn.hosts[0],
        "cdn.attempts": 1,
        outcome: "ok"
      })
      const attempts = Telemetry.spansNamed(telemetry, "MediaUpload.attempt")
      assert.deepStrictEqual(attempts.map((span) => Telemetry.pick(span, Telemetry.attemptKeys)), [
        { "cdn.host": world.cdn.hosts[0], "cdn.attempt": 1, outcome: "ok" }
      ])
      // The request's span sits in its attempt's, which sits in the operation's.
      assert.strictEqual(posts[0]!.parent, attempts[0]!.spanId)
      assert.strictEqual(attempts[0]!.parent, operation!.spanId)
    }
  },
  {
    name: "upload, resume probe and file_offset continuation",
    mediaType: "document",
    run: (world) =>
      Effect.zipRight(
        world.cdn.injectFault({ _tag: "Drop", afterBytes: 1_000_000, times: 2, on: "upload" }),
        outcome(upload(world, RESUMABLE))
      ),
    check: (telemetry, world) => {
      const queries = Telemetry.spansNamed(telemetry, "http.client POST").map((span) =>
        String(span.attributes.get("url.query"))
      )
      assert.strictEqual(queries.length, 4)
      assert.include(queries[0], "resume=1")
      assert.include(queries[3], "file_offset=1000000")
      const host = world.cdn.hosts[0]
      const attempts = Telemetry.spansNamed(telemetry, "MediaUpload.attempt")
      // A cut upload is a reset or a closed socket, depending on who notices first.
      assert.match(
        String(attempts[0]?.attributes.get("cdn.reason")),
        /^transport error: (ECONNRESET|UND_ERR_SOCKET|EPIPE) \(/
      )
      assert.deepStrictEqual(
        attempts.map((span) => Telemetry.pick(span, Telemetry.attemptKeys.filter((key) => key !== "cdn.reason"))),
        [
          { "cdn.host": host, "cdn.attempt": 1, "cdn.probe": "none", "cdn.offset": 0, outcome: "same-host" },
          { "cdn.host": host, "cdn.attempt": 2, "cdn.probe": "offset", "cdn.offset": 1_000_000, outcome: "ok" }
        ]
      )
      assert.deepStrictEqual(
        Telemetry.pick(Telemetry.spansNamed(telemetry, "MediaUpload.upload")[0], [
          "cdn.host",
          "cdn.attempts",
          "outcome"
        ]),
        { "cdn.host": host, "cdn.attempts": 2, outcome: "ok" }
      )
    }
  },
  {
    name: "upload, 401 then refresh",
    mediaType: "image",
    run: (world) =>
      Effect.gen(function*() {
        yield* Effect.orDie(upload(world, 1000, "image"))
        yield* world.cdn.revokeAuth
        return yield* outcome(upload(world, 2000, "image"))
      }),
    check: (telemetry, _world, exit) => {
      assert.isTrue(Exit.isSuccess(exit))
      assert.include(
        Telemetry.spansNamed(telemetry, "http.client POST").map((span) =>
          span.attributes.get("http.response.status_code")
        ),
        401
      )
      assert.isAtLeast(telemetry.auth.size, 2)
      const attempts = Telemetry.spansNamed(telemetry, "MediaUpload.attempt").slice(1)
      assert.deepStrictEqual(
        attempts.map((span) => Telemetry.pick(span, ["cdn.attempt", "outcome", "http.response.status_code"])),
        [
          { "cdn.attempt": 1, outcome: "refresh", "http.response.status_code": 401 },
          { "cdn.attempt": 2, outcome: "ok" }
        ]
      )
      assert.strictEqual(Telemetry.spansNamed(telemetry, "MediaConn.refresh").length, 1)
    }
  },
  {
    name: "upload, failover to the next host",
    mediaType: "document",
    run: (world) =>
      Effect.zipRight(world.cdn.injectFault({ _tag: "Status", status: 503 }), outcome(upload(world, 30_000))),
    check: (telemetry, world) => {
      assert.deepStrictEqual(
        Telemetry.spansNamed(telemetry, "MediaUpload.attempt").map((span) =>
          Telemetry.pick(span, Telemetry.attemptKeys)
        ),
        [
          {
            "cdn.host": world.cdn.hosts[0],
            "cdn.attempt": 1,
            outcome: "next-host",
            "http.response.status_code": 503,
            "cdn.reason": "server error"
          },
          { "cdn.host": world.cdn.hosts[1], "cdn.attempt": 2, outcome: "ok" }
        ]
      )
      assert.deepStrictEqual(
        Telemetry.pick(Telemetry.spansNamed(telemetry, "MediaUpload.upload")[0], ["cdn.host", "cdn.attempts"]),
        { "cdn.host": world.cdn.hosts[1], "cdn.attempts": 2 }
      )
    }
  },
  {
    name: "upload, every host fails",
    mediaType: "document",
    run: (world) =>
      Effect.zipRight(
        Effect.forEach(world.cdn.hosts, (host) => world.cdn.injectFault({ _tag: "Status", status: 503 }, { host })),
        outcome(upload(world, 30_000))
      ),
    check: (telemetry, _world, exit) => {
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(
        Telemetry.pick(Telemetry.spansNamed(telemetry, "MediaUpload.upload")[0], Telemetry.operationKeys),
        {
          "media.type": "document",
          "media.blob_length": MediaEncryptor.blobLength("document", 30_000),
          "media.file_length": 30_000,
          outcome: "failed",
          "error.type": "MediaUploadError",
          "error.reason": "AllHostsFailed"
        }
      )
      assert.deepStrictEqual(
        Telemetry.spansNamed(telemetry, "MediaUpload.attempt").map((span) => span.attributes.get("outcome")),
        ["next-host", "next-host"]
      )
      assert.isTrue(telemetry.logs.some((line) => line.includes("MediaUploadError")))
    }
  },
  {
    name: "upload, interrupted",
    mediaType: "document",
    run: (world) => interrupted(world, "upload", upload(world, 30_000)),
    check: (telemetry, _world, exit) => {
      assert.isTrue(Exit.isInterrupted(exit))
      for (const name of ["MediaUpload.upload", "MediaUpload.attempt"]) {
        assert.deepStrictEqual(Telemetry.spansNamed(telemetry, name).map((span) => span.attributes.get("outcome")), [
          "interrupted"
        ])
      }
    }
  },
  {
    name: "download, first try, resumed, 403 refresh, failover",
    mediaType: "document",
    run: (world) =>
      Effect.gen(function*() {
        const message = yield* uploaded(world, 400_000)
        const options = { protocol: world.protocol }
        yield* Effect.orDie(world.downloads.bytes(message, options))
        yield* world.cdn.injectFault({ _tag: "Drop", afterBytes: 100_000, on: "download" })
        yield* Effect.orDie(world.downloads.bytes(message, options))
        yield* world.cdn.injectFault({ _tag: "Status", status: 403, on: "download" })
        yield* Effect.orDie(world.downloads.bytes(message, options))
        yield* world.cdn.injectFault({ _tag: "Status", status: 503, on: "download" })
        return yield* outcome(world.downloads.bytes(message, options))
      }),
    check: (telemetry, world) => {
      const gets = Telemetry.spansNamed(telemetry, "http.client GET").filter((span) =>
        String(span.attributes.get("url.path")).startsWith("/v/")
      )
      assert.deepStrictEqual(gets.map((span) => span.attributes.get("http.response.status_code")), [
        200,
        200,
        206,
        403,
        200,
        503,
        200
      ])
      const blobLength = MediaEncryptor.blobLength("document", 400_000)
      const operations = Telemetry.spansNamed(telemetry, "MediaDownload.bytes")
      assert.deepStrictEqual(
        operations.map((span) => Telemetry.pick(span, Telemetry.operationKeys)),
        [
          [world.cdn.hosts[0], 1, 0],
          [world.cdn.hosts[0], 2, 1],
          [world.cdn.hosts[0], 2, 0],
          [world.cdn.hosts[1], 2, 0]
        ].map(([host, attempts, resumes]) => ({
          "media.type": "document",
          "media.blob_length": blobLength,
          "media.file_length": 400_000,
          "cdn.host": host,
          "cdn.attempts": attempts,
          "cdn.resumes": resumes,
          "cdn.restarts": 0,
          outcome: "ok"
        }))
      )
      const attempts = Telemetry.spansNamed(telemetry, "MediaDownload.attempt").map((span) =>
        Telemetry.pick(span, ["cdn.attempt", "cdn.offset", "outcome", "http.response.status_code"])
      )
      assert.deepStrictEqual(attempts.slice(0, 2), [
        { "cdn.attempt": 1, "cdn.offset": 0, outcome: "ok" },
        { "cdn.attempt": 1, "cdn.offset": 0, outcome: "same-host", "http.response.status_code": 200 }
      ])
      assert.isAbove(attempts[2]!["cdn.offset"] as number, 0)
      assert.deepStrictEqual(attempts.slice(3), [
        { "cdn.attempt": 1, "cdn.offset": 0, outcome: "refresh", "http.response.status_code": 403 },
        { "cdn.attempt": 2, "cdn.offset": 0, outcome: "ok" },
        { "cdn.attempt": 1, "cdn.offset": 0, outcome: "next-host", "http.response.status_code": 503 },
        { "cdn.attempt": 2, "cdn.offset": 0, outcome: "ok" }
      ])
    }
  },
  {
    name: "download as a stream, to a sink, a file and a writable",
    mediaType: "document",
    run: (world) =>
      Effect.gen(function*() {
        const message = yield* uploaded(world, 100_000)
        const options = { protocol: world.protocol }
        const dir = mkdtempSync(join(tmpdir(), "wa-media-secrets-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const sink = new PassThrough()
        sink.resume()
        return yield* outcome(Effect.all([
          Stream.runDrain(world.downloads.stream(message, options)),
          world.downloads.toSink(message, Sink.drain, options),
          world.downloads.toFile(message, join(dir, "out"), options),
          world.downloads.toWritable(message, sink, options)
        ]))
      }),
    check: (telemetry, world, exit) => {
      assert.isTrue(Exit.isSuccess(exit))
      const expected = {
        "media.type": "document",
        "media.blob_length": MediaEncryptor.blobLength("document", 100_000),
        "cdn.host": world.cdn.hosts[0],
        "cdn.attempts": 1,
        outcome: "ok"
      }
      const keys = Object.keys(expected)
      // `toSink` runs `stream` inside its own span: the transfer's attributes are on the inner one.
      const streams = Telemetry.spansNamed(telemetry, "MediaDownload.stream")
      assert.strictEqual(streams.length, 2)
      const [toSink] = Telemetry.spansNamed(telemetry, "MediaDownload.toSink")
      assert.strictEqual(streams[1]!.parent, toSink!.spanId)
      assert.deepStrictEqual(Telemetry.pick(toSink, ["outcome"]), { outcome: "ok" })
      for (
        const span of [
          ...streams,
          ...["toFile", "toWritable"].map((name) => Telemetry.spansNamed(telemetry, `MediaDownload.${name}`)[0])
        ]
      ) {
        assert.deepStrictEqual(Telemetry.pick(span, keys), expected, span?.name)
      }
    }
  },
  {
    name: "download, every host fails",
    mediaType: "document",
    run: (world) =>
      Effect.gen(function*() {
        const message = yield* uploaded(world, 50_000)
        const failAll = Effect.forEach(
          world.cdn.hosts,
          (host) => world.cdn.injectFault({ _tag: "Status", status: 502 }, { host }),
          { discard: true }
        )
        yield* failAll
        const streamed = yield* outcome(Stream.runDrain(world.downloads.stream(message, { protocol: world.protocol })))
        assert.isTrue(Exit.isFailure(streamed))
        yield* failAll
        return yield* outcome(world.downloads.bytes(message, { protocol: world.protocol }))
      }),
    check: (telemetry, _world, exit) => {
      assert.isTrue(Exit.isFailure(exit))
      const failed = { outcome: "failed", "error.type": "MediaDownloadError", "error.reason": "AllHostsFailed" }
      for (const name of ["MediaDownload.bytes", "MediaDownload.stream"]) {
        const [span] = Telemetry.spansNamed(telemetry, name)
        assert.deepStrictEqual(Telemetry.pick(span, ["outcome", "error.type", "error.reason"]), failed, name)
        assert.isTrue(span?.exit !== undefined && Exit.isFailure(span.exit), `${name} ends failed`)
      }
    }
  },
  {
    name: "download, interrupted",
    mediaType: "document",
    run: (world) =>
      Effect.flatMap(
        uploaded(world, 50_000),
        (message) => interrupted(world, "download", world.downloads.bytes(message, { protocol: world.protocol }))
      ),
    check: (telemetry, _world, exit) => {
      assert.isTrue(Exit.isInterrupted(exit))
      for (const name of ["MediaDownload.bytes", "MediaDownload.attempt"]) {
        assert.deepStrictEqual(Telemetry.spansNamed(telemetry, name).map((span) => span.attributes.get("outcome")), [
          "interrupted"
        ])
      }
    }
  }
]

const check = (
  telemetry: Telemetry.Telemetry,
  world: World,
  test: Case,
  exit: Exit.Exit<unknown, unknown>
) =>
  Effect.gen(function*() {
    assert.isAbove(telemetry.auth.size, 0)
    const secrets = [...Telemetry.authSecrets(telemetry), ...(yield* Telemetry.keySecrets(mediaKey, test.mediaType))]
    Telemetry.assertNoSecret([...Telemetry.texts(telemetry), ...Telemetry.exitTexts(exit)], secrets)
    // The platform's own request span (with the URL in clear) is gone.
    assert.isTrue(telemetry.spans.every((span) => !span.attributes.has("http.request.header.origin")))
    test.check?.(telemetry, world, exit)
  })

const worlds = [["the fake CDN", fakeWorld], ["the emulator", emulatorWorld]] as const

for (const [label, makeWorld] of worlds) {
  describe(`secrets over ${label}`, () => {
    for (const test of cases) {
      it.scoped(test.name, () =>
        Effect.gen(function*() {
          const telemetry = Telemetry.make()
          const world: World = yield* makeWorld(telemetry)
          const exit = yield* test.run(world).pipe(Effect.provide(telemetry.layer))
          yield* check(telemetry, world, test, exit)
        }))
    }
  })
}

describe("the emulator's own server spans", () => {
  it.scoped("a request with the upload's auth gets none; a download's has one; no span holds a secret", () =>
    Effect.gen(function*() {
      const telemetry = Telemetry.make()
      const world = yield* emulatorWorld(telemetry, [], true)
      const exit = yield* Effect.exit(
        Effect.flatMap(uploaded(world, 7000), (message) => world.downloads.bytes(message, { protocol: "http" }))
      ).pipe(Effect.provide(telemetry.layer))
      assert.isTrue(Exit.isSuccess(exit))
      const server = telemetry.spans.filter((span) => span.kind === "server")
      assert.isTrue(server.some((span) => span.attributes.get("http.request.method") === "GET"))
      assert.isFalse(server.some((span) => span.attributes.get("http.request.method") === "POST"))
      const secrets = [...Telemetry.authSecrets(telemetry), ...(yield* Telemetry.keySecrets(mediaKey, "document"))]
      Telemetry.assertNoSecret([...Telemetry.texts(telemetry), ...Telemetry.exitTexts(exit)], secrets)
    }))
})

describe("transport causes over the emulator", () => {
  /** Runs `run` in a fresh emulator world and checks that nothing it recorded holds a secret. */
  const observed = <A>(
    run: (world: World) => Effect.Effect<A, never, Scope.Scope>,
    hosts: ReadonlyArray<string> = []
  ) =>
    Effect.gen(function*() {
      const telemetry = Telemetry.make()
      const world = yield* emulatorWorld(telemetry, hosts)
      const exit = yield* Effect.exit(run(world).pipe(Effect.provide(telemetry.layer)))
      const secrets = [...Telemetry.authSecrets(telemetry), ...(yield* Telemetry.keySecrets(mediaKey, "document"))]
      Telemetry.assertNoSecret([...Telemetry.texts(telemetry), ...Telemetry.exitTexts(exit)], secrets)
      return { telemetry, value: yield* exit }
    })

  const reasons = (exit: Exit.Exit<unknown, unknown>) => {
    const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
    assert.instanceOf(error, Error)
    const attempts = (error as { readonly attempts?: ReadonlyArray<{ readonly reason: string }> }).attempts ?? []
    return { message: (error as Error).message, reasons: attempts.map((attempt) => attempt.reason) }
  }

  it.scoped("https against the plain-HTTP emulator: a TLS error that hints at --cdn-protocol http", () =>
    Effect.gen(function*() {
      const { telemetry, value } = yield* observed((world) =>
        Effect.exit(world.uploads.upload(MediaUpload.bytes(bytesOf(1000)), { mediaType: "document", mediaKey }))
      )
      const { message, reasons: why } = reasons(value)
      assert.strictEqual(why.length, 2)
      for (const reason of why) {
        assert.match(reason, /^transport error: TLS ERR_SSL_\w+ \(the host may speak plain HTTP/)
      }
      assert.include(message, "--cdn-protocol http")
      const errorTypes = Telemetry.spansNamed(telemetry, "http.client POST").map((span) =>
        span.attributes.get("error.type")
      )
      assert.deepStrictEqual(errorTypes, ["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_WRONG_VERSION_NUMBER"])
    }))

  it.scoped("a refused connection is named in the attempts, and the next host takes the upload", () =>
    Effect.gen(function*() {
      const { value } = yield* observed(
        (world) =>
          Effect.flatMap(
            Effect.orDie(upload(world, 2000)),
            () =>
              Effect.exit(
                Effect.zipRight(
                  Effect.forEach(
                    world.cdn.hosts,
                    (host) => world.cdn.injectFault({ _tag: "Status", status: 503 }, { host })
                  ),
                  upload(world, 3000)
                )
              )
          ),
        ["127.0.0.1:1"]
      )
      const { message, reasons: why } = reasons(value)
      assert.deepStrictEqual(why, [
        "transport error: ECONNREFUSED (connection refused)",
        "server error",
        "server error"
      ])
      assert.include(message, "127.0.0.1:1 transport error: ECONNREFUSED (connection refused)")
    }))

  it.scoped("a connection cut on every host is named in the download's attempts", () =>
    Effect.gen(function*() {
      const { value } = yield* observed((world) =>
        Effect.gen(function*() {
          const message = yield* uploaded(world, 200_000)
          for (const host of world.cdn.hosts) {
            yield* world.cdn.injectFault({ _tag: "Drop", afterBytes: 0, on: "download" }, { host })
          }
          const early = yield* Effect.exit(world.downloads.bytes(message, { protocol: world.protocol }))
          // Cut part-way through the body, twice per host: the resumes fail too.
          for (const host of world.cdn.hosts) {
            yield* world.cdn.injectFault({ _tag: "Drop", afterBytes: 30_000, times: 2, on: "download" }, { host })
          }
          const late = yield* Effect.exit(world.downloads.bytes(message, { protocol: world.protocol }))
          return { early, late }
        })
      )
      const late = reasons(value.late).reasons
      assert.strictEqual(late.length, 4)
      for (const reason of late) {
        assert.match(
          reason,
          /^body broke after \d+ bytes: transport error: UND_ERR_SOCKET \(connection closed by the server\)$/
        )
      }
      const { reasons: why } = reasons(value.early)
      // Cut before any byte of the body: the transport fails the request itself.
      assert.deepStrictEqual(why, [
        "transport error: UND_ERR_SOCKET (connection closed by the server)",
        "transport error: UND_ERR_SOCKET (connection closed by the server)"
      ])
    }))
})

describe("secrets in encryption by hand", () => {
  it.scoped("encryptBytes, decryptBytes and MediaFile: type and lengths in their spans, no key, even on a MAC mismatch", () =>
    Effect.gen(function*() {
      const telemetry = Telemetry.make()
      const dir = mkdtempSync(join(tmpdir(), "wa-media-secrets-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const plaintext = bytesOf(100_000)
      const options = { mediaType: "video", mediaKey } as const
      writeFileSync(join(dir, "plain"), plaintext)
      const exits = yield* Effect.gen(function*() {
        const { blob } = yield* MediaEncryptor.encryptBytes(plaintext, options)
        yield* MediaFile.encryptFile(join(dir, "plain"), join(dir, "blob"), options)
        const tampered = Uint8Array.from(blob)
        tampered[5] ^= 1
        writeFileSync(join(dir, "tampered"), tampered)
        return [
          yield* outcome(MediaDecryptor.decryptBytes(tampered, options)),
          yield* outcome(MediaFile.decryptFile(join(dir, "tampered"), join(dir, "out"), options))
        ]
      }).pipe(Effect.orDie, Effect.provide(telemetry.layer))
      const secrets = yield* Telemetry.keySecrets(mediaKey, "video")
      Telemetry.assertNoSecret([...Telemetry.texts(telemetry), ...exits.flatMap(Telemetry.exitTexts)], secrets)
      assert.strictEqual(telemetry.logs.length, 2)
      const of = (name: string) => Telemetry.pick(Telemetry.spansNamed(telemetry, name)[0], Telemetry.operationKeys)
      const encrypted = { "media.type": "video", "media.file_length": 100_000, outcome: "ok" }
      assert.deepStrictEqual(of("MediaEncryptor.encryptBytes"), encrypted)
      assert.deepStrictEqual(of("MediaFile.encryptFile"), encrypted)
      const failed = {
        "media.type": "video",
        outcome: "failed",
        "error.type": "MediaIntegrityError",
        "error.reason": "Mac"
      }
      assert.deepStrictEqual(of("MediaDecryptor.decryptBytes"), {
        ...failed,
        "media.blob_length": MediaEncryptor.blobLength("video", 100_000)
      })
      assert.deepStrictEqual(of("MediaFile.decryptFile"), failed)
    }))
})

describe("secrets in a re-upload of expired media", () => {
  it.scoped("asking the phone, its answers and the download from the fresh path: no key, retry key or auth", () =>
    Effect.gen(function*() {
      const telemetry = Telemetry.make()
      const context = yield* Layer.build(
        MediaDownload.layer.pipe(
          Layer.provide(Layer.merge(telemetry.wire, telemetry.mediaConn)),
          Layer.provideMerge(FakePhone.layer()),
          Layer.provideMerge(FakeCdn.layerWithMediaConn()),
          Layer.provideMerge(MediaCrypto.layerTest())
        )
      )
      const phone = Context.get(context, FakePhone.FakePhone)
      const cdn = Context.get(context, FakeCdn.FakeCdn)
      const downloads = Context.get(context, MediaDownload.MediaDownload)
      const sent = yield* Effect.orDie(phone.sendMedia(bytesOf(40_000), { type: "image" }))
      yield* cdn.expireLinks
      const exits = yield* Effect.gen(function*() {
        const reuploaded = yield* outcome(downloads.bytes(sent))
        yield* cdn.expireLinks
        yield* phone.answerWith("NotOnPhone")
        return [reuploaded, yield* outcome(downloads.bytes(sent))]
      }).pipe(Effect.provide(telemetry.layer))
      assert.isTrue(Exit.isSuccess(exits[0]!))
      assert.isTrue(Exit.isFailure(exits[1]!))
      const key = Redacted.value((yield* MediaMessage.downloadable(sent)).mediaKey!)
      const retryKey = Buffer.from(MediaKeys.hkdf(key, "WhatsApp Media Retry Notification", 32))
      const secrets = [
        ...Telemetry.authSecrets(telemetry),
        ...(yield* Telemetry.keySecrets(key, "image")),
        retryKey.toString("base64"),
        retryKey.toString("hex")
      ]
      Telemetry.assertNoSecret([...Telemetry.texts(telemetry), ...exits.flatMap(Telemetry.exitTexts)], secrets)
      const asked = Telemetry.spansNamed(telemetry, "MediaRetry.reupload")
      assert.strictEqual(asked.length, 2)
      assert.deepStrictEqual(asked.map((span) => span.attributes.get("messageId")), [sent.key.id, sent.key.id])
    }))
})
