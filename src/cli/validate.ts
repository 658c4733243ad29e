// `meshquake validate`: a scenario is valid when it parses without error AND its plan builds. The
// plan is pure, so building it here surfaces policy lint, placement and data-plane warnings, and
// guarantees that what validate accepts, plan and run accept too. The fuzz test drives
// validateParsed with the same inputs the CLI would read.
import { dataPlaneFor } from "../dataplane/registry.js";
import { buildPlan } from "../plan/plan.js";
import { formatProblem } from "../scenario/format-problem.js";
import { readScenario, type ScenarioOptions, type ScenarioResult } from "../scenario/load-scenario.js";
import type { LoadModel, Problem } from "../scenario/types.js";
import { describeLoad } from "../plan/describe-load.js";
import { safeLine } from "../util/safe-text.js";
import type { PlanWarning } from "../scenario/warnings.js";
import { EXIT } from "../verdict/verdict.js";

export interface Validation {
  file: string;
  valid: boolean;
  /** The scenario's name when valid. */
  name: string | null;
  problems: Problem[];
  /** From the plan: policy lint, fault placement, data-plane approximations; located, those the scenario acknowledges left out. */
  warnings: Problem[];
  /** The plan refused a scenario validation accepted: a meshquake bug, never the user's. */
  planError: string | null;
  /** When valid: the load model the scenario gets, and a line saying what it means. */
  load?: { model: LoadModel; summary: string };
}

export async function validateFile(file: string, options: ScenarioOptions = {}): Promise<Validation> {
  return validateParsed(file, await readScenario(file, options));
}

export function validateParsed(file: string, { scenario, problems, locate }: ScenarioResult): Validation {
  const valid = scenario !== null && !problems.some((p) => p.severity === "error");
  if (!valid) return { file, valid, name: null, problems, warnings: [], planError: null };
  try {
    const plan = buildPlan({ scenario, runId: "mq-validate", image: "meshquake/mesh", dataPlane: dataPlaneFor(scenario.dataPlane) });
    const load = { model: scenario.load.model, summary: describeLoad(scenario.load) };
    const warnings = plan.warningDetails.shown.map((w) => locatedWarning(file, w, locate));
    return { file, valid, name: scenario.name, problems, warnings, planError: null, load };
  } catch (err) {
    return { file, valid: false, name: scenario.name, problems, warnings: [], planError: err instanceof Error ? err.message : String(err) };
  }
}

/** A plan warning where it points, ending with the id the scenario's `acknowledge:` takes. */
export function locatedWarning(file: string, w: PlanWarning, locate: ScenarioResult["locate"]): Problem {
  const at = locate?.(w.path) ?? { line: 1, col: 1 };
  return { severity: "warning", file: at.file ?? file, line: at.line, col: at.col, path: "", message: `${w.text} [${w.id}]` };
}

/** What `meshquake validate` prints on stderr for one file, line by line. */
export function validationLines(v: Validation): string[] {
  return [
    ...v.problems.map((p) => safeLine(formatProblem(p))),
    ...v.warnings.map((w) => safeLine(formatProblem(w))),
    ...(v.planError === null ? [] : [safeLine(`meshquake: ${v.file} is valid, but planning it failed (a meshquake bug): ${v.planError}`)]),
  ];
}

/** 2 for a problem in any file; 3 when a valid scenario could not be planned (a harness bug). */
export function validationExitCode(results: readonly Validation[]): number {
  if (results.some((r) => r.planError !== null)) return EXIT.harness;
  return results.every((r) => r.valid) ? EXIT.passed : EXIT.usage;
}
