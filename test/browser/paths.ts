import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Synthetic reports rendered for the browser tests. */
export const BROWSER_REPORTS = join(PROJECT_ROOT, "test-results", "browser-reports");
/** Reports of real runs of the example scenarios (also written by the end-to-end suite). */
export const EXAMPLE_REPORTS = join(PROJECT_ROOT, "test-results", "example-reports");
export const EXAMPLE_SCENARIOS = [
  { name: "demo", file: "scenarios/demo.yaml", verdict: "FAILED" },
  { name: "retries-hide-a-bad-replica", file: "scenarios/retries-hide-a-bad-replica.yaml", verdict: "PASSED" },
] as const;

/** An example's real report rendered as a report written before meshTimeline existed. */
export function legacyExample(name: string): string {
  return join(BROWSER_REPORTS, `example-${name}-without-mesh-series.html`);
}
