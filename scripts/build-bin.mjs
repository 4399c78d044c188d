// Builds the `wa-media` bin into one self-contained ESM file, dist/bin/wa-media.js, with everything
// it needs bundled in (@effect/cli, effect, @effect/platform, @effect/platform-node), tree-shaken
// and minified so that it starts fast. Each command's module is imported when that command runs:
// the bundle keeps it unevaluated until then. The hash worker of MediaCrypto's pool is a second
// entry, dist/bin/hashWorker.js: the pool starts `hashWorker.js` beside the module that holds it,
// which in the bundle is dist/bin/wa-media.js. The library itself stays tsc's plain ESM in dist/.
import { build } from "esbuild"
import { chmodSync } from "node:fs"

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
  // Some bundled dependencies (undici, ws) are CommonJS and `require` Node's own modules.
  banner: {
    js:
      "import { createRequire as __waCreateRequire } from \"node:module\"; const require = __waCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
})
chmodSync("dist/bin/wa-media.js", 0o755)
