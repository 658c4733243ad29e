// Every check of a scenario, in scenario order. SLO checks are judged here from the client's
// view; property checks (retry_amplification, ejection, ...) need the mesh's observations and
// are judged by the evaluator the caller passes in — the run passes
// src/verdict/properties' `propertyEvaluator(context)`, bound to what it observed.
import type { CheckResult, ClientStats, WindowRecord } from "../model/run-report.js";
import type { PropertyCheck, ResolvedCheck } from "../scenario/types.js";
import { evaluateSlo } from "./slo.js";

export type PropertyEvaluator = (check: PropertyCheck) => CheckResult;

export function evaluateChecks(
  checks: readonly ResolvedCheck[],
  client: ClientStats,
  windows: readonly WindowRecord[],
  evaluateProperty?: PropertyEvaluator,
): CheckResult[] {
  return checks.map((check) => {
    if (check.kind === "slo") return evaluateSlo(check, client, windows);
    if (evaluateProperty) return evaluateProperty(check);
    return {
      name: check.name,
      kind: "property",
      status: "error",
      property: check.property,
      observed: null,
      threshold: null,
      unit: "",
      evidence: { params: check.params },
      reason: `no evaluator for property "${check.property}" was given to this run`,
      location: check.location,
    };
  });
}
