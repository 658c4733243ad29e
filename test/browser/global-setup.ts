// Produces the reports the browser tests open: the synthetic ones (every shape, hostile names,
// one written before reports had per-second mesh series) and real ones from the example
// scenarios. The end-to-end suite writes the real ones when it runs first (as `npm test` does);
// otherwise they are made here with the CLI. Their HTML is rendered again here from report.json,
// so the tests always see the current renderer, and once more as an older report would be,
// without its mesh series.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withoutMeshSeries } from "../../src/report/fixtures/build.js";
import { fixtures } from "../../src/report/fixtures/index.js";
import { renderHtml } from "../../src/report/html/render-html.js";
import type { RunReport } from "../../src/model/run-report.js";
import { BROWSER_REPORTS, EXAMPLE_REPORTS, EXAMPLE_SCENARIOS, legacyExample, PROJECT_ROOT } from "./paths.js";

export default function globalSetup(): void {
  mkdirSync(BROWSER_REPORTS, { recursive: true });
  for (const [name, make] of Object.entries(fixtures)) writeFileSync(join(BROWSER_REPORTS, `${name}.html`), renderHtml(make()));
  const missing = EXAMPLE_SCENARIOS.filter((s) => !existsSync(join(EXAMPLE_REPORTS, s.name, "report.html")));
  if (missing.length) {
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
  for (const s of EXAMPLE_SCENARIOS) {
    const report = JSON.parse(readFileSync(join(EXAMPLE_REPORTS, s.name, "report.json"), "utf8")) as RunReport;
    // Reports kept from an earlier run were rendered by the renderer of that day: render them anew.
    writeFileSync(join(EXAMPLE_REPORTS, s.name, "report.html"), renderHtml(report));
    writeFileSync(legacyExample(s.name), renderHtml(withoutMeshSeries(report)));
  }
}
