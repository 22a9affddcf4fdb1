import swc from "unplugin-swc";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [swc.vite({ module: { type: "es6" } })],
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
