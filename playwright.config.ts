import { defineConfig, devices } from "@playwright/test";

// Browser tests of the HTML report. Playwright cannot download browsers on our machines:
// they use Debian's chromium (.ci/run installs it) with networking features switched off.
export default defineConfig({
  testDir: "test/browser",
  globalSetup: "./test/browser/global-setup.ts",
  outputDir: "test-results/playwright",
  timeout: 60_000,
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [["list"], ["junit", { outputFile: "test-results/browser-junit.xml" }]] : "list",
  use: {
    ...devices["Desktop Chrome"],
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium" }],
});
