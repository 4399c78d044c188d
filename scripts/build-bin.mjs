// Builds the `wa-media` bin into one self-contained ESM file, dist/bin/wa-media.js, with everything
// it needs bundled in (@effect/cli, effect, @effect/platform, @effect/platform-node), tree-shaken
// and minified so that it starts fast. Each command's module is imported when that command runs:
// the bundle keeps it unevaluated until then. The hash worker of MediaCrypto's pool is a second
// entry, dist/bin/hashWorker.js: the pool starts `hashWorker.js` beside the module that holds it,
// which in the bundle is dist/bin/wa-media.js. The library itself stays tsc's plain ESM in dist/.
import { build } from "esbuild"
import { chmodSync, readFileSync } from "node:fs"
import { isBuiltin } from "node:module"

/**
 * An `import` of a Node module would be hoisted to the top of the bundle and loaded at every start,
 * even for a command that never runs (`node:http` and `node:https` alone cost as much as the rest
 * of `--help`). Read through `require` instead, each is loaded when the code that needs it runs.
 */
const lazyNodeModules = {
  name: "lazy-node-modules",
  setup(build) {
    build.onResolve({ filter: /^[a-z]/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined
      return args.namespace === "node-module" || args.kind === "require-call"
        ? { path: args.path, external: true }
        : { path: args.path, namespace: "node-module" }
    })
    build.onLoad({ filter: /.*/, namespace: "node-module" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
      loader: "js"
    }))
  }
}

await build({
  entryPoints: {
    "wa-media": "src/bin/wa-media.ts",
    hashWorker: "src/internal/hashWorker.js"
  },
  outdir: "dist/bin",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  plugins: [lazyNodeModules],
  define: { __WA_MEDIA_VERSION__: JSON.stringify(JSON.parse(readFileSync("package.json", "utf8")).version) },
  // `require` for the Node modules above and for the bundled CommonJS dependencies (ws, multipasta).
  banner: {
    js:
      "import { createRequire as __waCreateRequire } from \"node:module\"; const require = __waCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
})
chmodSync("dist/bin/wa-media.js", 0o755)
