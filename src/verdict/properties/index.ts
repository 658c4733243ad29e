// The property checks a scenario can ask for (docs/properties.md), one evaluator each. A property can only pass on evidence: a
// check over a fault that did not land as configured — or over the whole load when any fault did
// not land — is inconclusive with the fault's reason (src/faults/landed.ts), never passed.
import { faultLanded } from "../../faults/landed.js";
import type { CheckResult } from "../../model/run-report.js";
import type { PropertyCheck, ResolvedScenario } from "../../scenario/types.js";
import { percentileThresholds } from "./thresholds.js";
import { toCheckResult, type PropertyContext, type PropertyFn, type PropertyOutcome } from "./context.js";
import { blastRadius } from "./blast-radius.js";
import { circuitTrip } from "./circuit-trip.js";
import { ejection } from "./ejection.js";
import { failover, recovery } from "./failover.js";
import { isolation } from "./isolation.js";
import { rateLimit } from "./rate-limit.js";
import { retryAmplification } from "./retry-amplification.js";
import { retryBudget } from "./retry-budget.js";
import { slowReplicaShare } from "./slow-replica-share.js";
import { timeoutBound } from "./timeout-bound.js";
import { trafficSplit } from "./traffic-split.js";

export type { PropertyContext } from "./context.js";
export { percentileThresholds };

export const PROPERTY_EVALUATORS = {
  retry_amplification: retryAmplification,
  retry_budget: retryBudget,
  circuit_trip: circuitTrip,
  ejection,
  failover,
  recovery,
  timeout_bound: timeoutBound,
  isolation,
  slow_replica_share: slowReplicaShare,
  rate_limit: rateLimit,
  traffic_split: trafficSplit,
  blast_radius: blastRadius,
} satisfies Record<string, PropertyFn>;

export type ImplementedProperty = keyof typeof PROPERTY_EVALUATORS;
export const IMPLEMENTED_PROPERTIES = Object.keys(PROPERTY_EVALUATORS) as ImplementedProperty[];

/** Judges one property check on the run's observations; never throws (a bug becomes an `error` verdict). */
export function evaluateProperty(check: PropertyCheck, ctx: PropertyContext): CheckResult {
  const fn = (PROPERTY_EVALUATORS as Record<string, PropertyFn>)[check.property];
  if (!fn) {
    return toCheckResult(check, {
      status: "error",
      observed: null,
      threshold: null,
      unit: "",
      evidence: { params: check.params },
      reason: `property "${check.property}" is not implemented in this version of meshquake`,
      dependsOn: [],
    });
  }
  let outcome: PropertyOutcome;
  try {
    outcome = fn(check, ctx);
  } catch (err) {
    outcome = {
      status: "error",
      observed: null,
      threshold: null,
      unit: "",
      evidence: { params: check.params },
      reason: `evaluating ${check.property} failed: ${err instanceof Error ? err.message : String(err)}`,
      dependsOn: [],
    };
  }
  return toCheckResult(check, unlessFaultsDidNotLand(outcome, ctx));
}

/** The evaluator `evaluateChecks` takes, bound to one run's observations. */
export function propertyEvaluator(ctx: PropertyContext): (check: PropertyCheck) => CheckResult {
  return (check) => evaluateProperty(check, ctx);
}

function unlessFaultsDidNotLand(outcome: PropertyOutcome, ctx: PropertyContext): PropertyOutcome {
  if (outcome.status === "error") return outcome;
  const names = outcome.dependsOn === "all" ? ctx.faults.map((f) => f.name) : outcome.dependsOn;
  const reasons: string[] = [];
  for (const name of names) {
    const record = ctx.faults.find((f) => f.name === name);
    if (!record) continue;
    const landed = record.landed === undefined ? faultLanded(record) : { landed: record.landed, reason: record.landedReason ?? null };
    if (!landed.landed) reasons.push(landed.reason ?? `fault ${name} did not land`);
  }
  if (reasons.length === 0) return outcome;
  return { ...outcome, status: "inconclusive", reason: reasons.join("; "), evidence: { ...outcome.evidence, observedStatus: outcome.status } };
}
