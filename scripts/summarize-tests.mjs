// Adds up vitest's and Playwright's JSON results, checks that no run left a labelled container or
// network behind (that counts as a failed test), and prints the line CI reads: "N passed, N failed".
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const [vitestFile, playwrightFile] = process.argv.slice(2);
let passed = 0;
let failed = 0;

if (existsSync(vitestFile)) {
  const v = JSON.parse(readFileSync(vitestFile, "utf8"));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  // A file that failed to load has no tests to count: count it as one failure.
  failed += v.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
} else {
  console.log(`no vitest results at ${vitestFile}: counting the suite as failed`);
  failed += 1;
}

if (playwrightFile && existsSync(playwrightFile)) {
  const p = JSON.parse(readFileSync(playwrightFile, "utf8"));
  passed += p.stats.expected + p.stats.flaky;
  failed += p.stats.unexpected;
} else if (playwrightFile && process.env.MESHQUAKE_EXPECT_BROWSER !== "0" && existsSync("playwright.config.ts")) {
  console.log(`no Playwright results at ${playwrightFile}: counting the suite as failed`);
  failed += 1;
}

try {
  const leftovers = ["ps", "network"].map((what) =>
    execFileSync("docker", what === "ps" ? ["ps", "-aq", "--filter", "label=meshquake.run-id"] : ["network", "ls", "-q", "--filter", "label=meshquake.run-id"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean).length,
  );
  if (leftovers[0] + leftovers[1] > 0) {
    console.log(`leak check: ${leftovers[0]} container(s) and ${leftovers[1]} network(s) labelled meshquake.run-id were left behind`);
    failed += 1;
  } else {
    passed += 1;
  }
} catch (err) {
  console.log(`leak check could not ask Docker: ${err.message}`);
  failed += 1;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
