import { defineConfig } from "@playwright/test";

// The end-to-end tests talk HTTP to the product started the way the README's Quick start starts
// it (see global-setup.ts); they need no browser download.
export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  globalTeardown: "./global-teardown.ts",
  timeout: 60_000,
  workers: 1,
  reporter: [["list"]],
  outputDir: "./test-results",
});
