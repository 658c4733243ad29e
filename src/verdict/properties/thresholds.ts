// The latency thresholds the client recorder counts against, known before the run: every
// percentile SLO a recovery can judge (the check's own `slos`, or the scenario's slo checks) and
// every client-side timeout bound. Counting them per 100 ms slot is what lets a property judge a
// percentile exactly over any sliding window without keeping every latency.
import type { PropertyCheck, ResolvedScenario, SloExpression } from "../../scenario/types.js";
import { clientLimitUs } from "./timeout-bound.js";

export function percentileThresholds(scenario: ResolvedScenario): number[] {
  const out = new Set<number>();
  const add = (slo: SloExpression) => {
    if (slo.metric.kind === "percentile") out.add(Math.round(slo.threshold));
  };
  for (const check of scenario.checks) {
    if (check.kind === "slo") {
      add(check.expression);
      continue;
    }
    for (const slo of (check.params.slos as SloExpression[] | undefined) ?? []) add(slo);
    if (check.property === "timeout_bound") {
      const limit = clientLimitUs(check as PropertyCheck, scenario);
      if (limit !== null) out.add(limit);
    }
  }
  return [...out].sort((a, b) => a - b);
}
