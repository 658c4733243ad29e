import { faultLanded } from "../faults/landed.js";
import type { CheckResult, FaultRecord } from "../model/run-report.js";
import type { ResolvedCheck } from "../scenario/types.js";

/**
 * A check can only pass on evidence: when the fault its window or property is about did not land
 * as configured, its verdict becomes inconclusive with the reason. A check on the whole load is
 * about every fault in it, so any fault that did not land makes it inconclusive too. Baseline
 * checks stand on their own.
 */
export function inconclusiveWhereFaultsDidNotLand(
  results: readonly CheckResult[],
  checks: readonly ResolvedCheck[],
  faults: readonly FaultRecord[],
): CheckResult[] {
  const notLanded = new Map<string, string>();
  for (const f of faults) {
    const r = faultLanded(f);
    if (!r.landed) notLanded.set(f.name, r.reason ?? `fault ${f.name} did not land`);
  }
  if (notLanded.size === 0) return [...results];
  return results.map((result, i) => {
    const check = checks[i]!;
    let reason: string | undefined;
    if (check.kind === "slo") {
      if (check.window.kind === "fault" || check.window.kind === "recovery") reason = notLanded.get(check.window.fault);
      else if (check.window.kind === "whole") reason = [...notLanded.values()].join("; ");
    } else if (typeof check.params.fault === "string") {
      reason = notLanded.get(check.params.fault);
    }
    if (!reason || result.status === "error") return result;
    return { ...result, status: "inconclusive" as const, reason, evidence: { ...result.evidence, observedStatus: result.status } };
  });
}
