import { defineConfig } from "vitest/config";

// Two projects: pure unit tests beside the code (fast, no Docker) and the Docker-backed
// integration/end-to-end tests, which share images and run one at a time.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["src/**/*.test.ts"], testTimeout: 10_000 } },
      {
        test: {
          name: "docker",
          include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          env: { TESTCONTAINERS_RYUK_DISABLED: "true" },
        },
      },
    ],
  },
});
