import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import * as FileOutput from "../src/internal/fileOutput.js"

const bytes = (...values: ReadonlyArray<number>) => new Uint8Array(values)

/** A fresh folder, removed with the test's scope, and the file system to look into it. */
const tempDir = Effect.flatMap(
  FileSystem.FileSystem,
  (fs) => Effect.map(fs.makeTempDirectoryScoped(), (dir) => ({ fs, dir }))
)

layer(NodeFileSystem.layer)("fileOutput", (it) => {
  it.scoped("writes pieces across both buffers in order, rewinds on reset, and renames at the end", () =>
    Effect.gen(function*() {
      const { dir, fs } = yield* tempDir
      yield* FileOutput.withFileOutput(`${dir}/out.bin`, (file) =>
        Effect.gen(function*() {
          yield* file.write([bytes(9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9)])
          yield* file.reset
          yield* file.write([bytes(1, 2, 3), bytes(4, 5, 6, 7, 8, 9)])
          yield* file.write([bytes(10), bytes(), bytes(11, 12, 13, 14, 15, 16, 17, 18, 19, 20)])
          // Nothing is at the target before the end.
          assert.isFalse(yield* fs.exists(`${dir}/out.bin`))
        }), 4)
      assert.deepStrictEqual(
        yield* fs.readFile(`${dir}/out.bin`),
        bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
      )
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.bin"])
    }))

  it.scoped("a target the rename cannot take (a folder, a missing folder) fails before use runs", () =>
    Effect.gen(function*() {
      const { dir, fs } = yield* tempDir
      yield* fs.makeDirectory(`${dir}/folder`)
      for (const [target, detail] of [[`${dir}/folder`, "it is a directory"], [`${dir}/none/out.bin`, "ENOENT"]]) {
        let used = false
        const error = yield* Effect.flip(FileOutput.withFileOutput(target, () => Effect.sync(() => (used = true))))
        assert.isFalse(used)
        assert.strictEqual(error._tag, "MediaFileError")
        assert.strictEqual(error.reason, "Write")
        assert.include(error.detail, detail)
      }
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["folder"])
      assert.deepStrictEqual(yield* fs.readDirectory(`${dir}/folder`), [])
    }))

  it.scoped("a failure leaves a previous file as it was and no temp file", () =>
    Effect.gen(function*() {
      const { dir, fs } = yield* tempDir
      yield* fs.writeFileString(`${dir}/out.bin`, "previous")
      const error = yield* Effect.flip(FileOutput.withFileOutput(`${dir}/out.bin`, (file) =>
        Effect.zipRight(file.write([new Uint8Array(10)]), Effect.fail("broken" as const)), 4))
      assert.strictEqual(error, "broken")
      assert.strictEqual(yield* fs.readFileString(`${dir}/out.bin`), "previous")
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["out.bin"])
    }))

  it.scoped("an interruption removes the temp file", () =>
    Effect.gen(function*() {
      const { dir, fs } = yield* tempDir
      const written = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(FileOutput.withFileOutput(`${dir}/out.bin`, (file) =>
        file.write([new Uint8Array(100)]).pipe(
          Effect.zipRight(Deferred.succeed(written, undefined)),
          Effect.zipRight(Effect.never)
        ), 16))
      yield* Deferred.await(written)
      const during = yield* fs.readDirectory(dir)
      assert.strictEqual(during.length, 1)
      assert.match(during[0]!, /^\.out\.bin\.[0-9a-f]+\.tmp$/)
      assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(fiber)))
      assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
    }))

  it.scoped("a folder that does not exist is a write error naming the target", () =>
    Effect.gen(function*() {
      const { dir } = yield* tempDir
      const error = yield* Effect.flip(FileOutput.withFileOutput(`${dir}/no/out.bin`, () => Effect.void))
      assert.strictEqual(error._tag, "MediaFileError")
      assert.strictEqual(error.reason, "Write")
      assert.strictEqual(error.path, `${dir}/no/out.bin`)
    }))
})
