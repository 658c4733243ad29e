// Writing a report's artefacts for `run` and `report`: the reporters' failures on stderr, exit 3 when any failed.
import { writeArtefacts } from "../report/reporters.js";
import type { RunReport } from "../model/run-report.js";
import { EXIT } from "../verdict/verdict.js";
import type { CliIo } from "./io.js";

/** With `quiet`, the artefacts written go unsaid (a reporter's failure is still said). */
export async function writeAll(report: RunReport, out: string, reporterList: string, io: CliIo, color: boolean, quiet = false): Promise<number> {
  const names = reporterList.split(",").map((s) => s.trim()).filter(Boolean);
  const r = await writeArtefacts(report, { outDir: out, reporters: names, env: io.env, stdout: io.stdout, color });
  for (const e of r.errors) io.stderr(`meshquake: reporter ${e.reporter} failed: ${e.message}\n`);
  if (r.written.length && !quiet) io.stderr(`artefacts: ${r.written.join(", ")}\n`);
  return r.errors.length ? EXIT.harness : EXIT.passed;
}

