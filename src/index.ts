// meshquake as a library: `import { readScenario, validate, run } from "meshquake"`.
// What is exported here is the stable surface (semver applies to it); everything else under dist/
// is internal and may change in any release. Importing this module is cheap: the Docker client,
// the load generator and the reporters load only when `run` or `writeArtefacts` is called.
import type { RunReport } from "./model/run-report.js";
import type { ArtefactOptions } from "./report/reporters.js";

// Scenarios: read (every problem at once, located) and validate (as `meshquake validate`).
export { parseScenario, readScenario, type ScenarioOptions, type ScenarioResult } from "./scenario/load-scenario.js";
export { formatProblem } from "./scenario/format-problem.js";
export { validateFile as validate, type Validation } from "./cli/validate.js";
export type { Problem, ResolvedScenario } from "./scenario/types.js";

// Running one scenario end to end (as `meshquake run`, without the CLI's reporting).
export { run, run as runScenario, loadScenario, ScenarioInvalidError, type RunOptions } from "./library/run.js";

// Reports: the one versioned artefact, its verdict and the exit code the CLI would give.
export type { CheckResult, CheckStatus, HarnessError, RunReport, Verdict } from "./model/run-report.js";
export { readReport, parseReport } from "./report/json.js";
export { REPORTER_NAMES, type ReporterName } from "./report/reporter-names.js";
export { EXIT, exitCodeFor, overallVerdict, type ExitCode } from "./verdict/verdict.js";

/** Writes a report's artefacts (report.json, report.html, junit.xml, summary.md) as `meshquake report` does. */
export async function writeArtefacts(report: RunReport, options: ArtefactOptions): Promise<{ written: string[]; errors: { reporter: string; message: string }[] }> {
  const reporters = await import("./report/reporters.js");
  return reporters.writeArtefacts(report, options);
}

// A mesh held up for a test's own duration: a topology to call, faults on and off at will.
export { FaultInputError, INJECT_LEASE, type FaultInput } from "./library/fault-input.js";
export type { InjectedFault, Mesh, MeshOptions } from "./library/start-mesh.js";

/** Builds the scenario's topology (no load, no timeline) and holds it up until closed; `await using` disposes it. */
export async function startMesh(file: string, options: import("./library/start-mesh.js").MeshOptions = {}): Promise<import("./library/start-mesh.js").Mesh> {
  const { startMesh: start } = await import("./library/start-mesh.js");
  return start(file, options);
}
