import { fileURLToPath } from "node:url";
import swc from "unplugin-swc";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [swc.vite({ module: { type: "es6" } })],
  resolve: {
    // Node loads graphql's CommonJS build for every library (graphql has no `exports`); vite would pick
    // index.mjs for our own imports, and two graphql instances cannot share a schema.
    alias: [{ find: /^graphql$/, replacement: fileURLToPath(new URL("./node_modules/graphql/index.js", import.meta.url)) }],
  },
  test: {
    environment: "node",
    setupFiles: ["./test/setup.ts"],
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real databases and real ssh clients: keep parallelism within the 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
