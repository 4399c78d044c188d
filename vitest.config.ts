import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const src = fileURLToPath(new URL("./src", import.meta.url))

export default defineConfig({
  resolve: {
    // Tests import the package by its name, as users do, but run the sources.
    alias: [
      { find: /^effect-wa-media$/, replacement: `${src}/index.ts` },
      { find: /^effect-wa-media\/(.*)$/, replacement: `${src}/$1.ts` }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks"
  }
})
