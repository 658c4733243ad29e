// Produces the reports the browser tests open: the synthetic ones (every shape, hostile names)
// and real ones from the example scenarios. The end-to-end suite writes the real ones when it
// runs first (as `npm test` does); otherwise they are made here with the CLI.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixtures } from "../../src/report/fixtures/index.js";
import { renderHtml } from "../../src/report/html/render-html.js";
import { BROWSER_REPORTS, EXAMPLE_REPORTS, EXAMPLE_SCENARIOS, PROJECT_ROOT } from "./paths.js";

export default function globalSetup(): void {
  mkdirSync(BROWSER_REPORTS, { recursive: true });
  for (const [name, make] of Object.entries(fixtures)) writeFileSync(join(BROWSER_REPORTS, `${name}.html`), renderHtml(make()));
  const missing = EXAMPLE_SCENARIOS.filter((s) => !existsSync(join(EXAMPLE_REPORTS, s.name, "report.html")));
  if (missing.length === 0) return;
  try {
    execFileSync(
      process.execPath,
      ["bin/meshquake.js", "run", ...missing.map((s) => s.file), "--out", EXAMPLE_REPORTS, "--quiet", "--reporter", "json,html"],
      { cwd: PROJECT_ROOT, stdio: "inherit" },
    );
  } catch (err) {
    // Exit 1 is the demo breaching its check on purpose; anything else is a real failure.
    if ((err as { status?: number }).status !== 1) throw err;
  }
}
