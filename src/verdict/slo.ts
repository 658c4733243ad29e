// SLO checks against the client's view of one window: `error_rate < 1%`, `p(99) < 800ms`.
// A check is only judged when the window holds enough requests for the threshold to be
// resolvable at all; otherwise it is inconclusive and says how many it would have needed.
import { windowName } from "../plan/types.js";
import { percentileOf } from "../observe/client-histogram.js";
import type { CheckResult, ClientStats, WindowRecord } from "../model/run-report.js";
import type { SloCheck } from "../scenario/types.js";
import { compare, minimumRequests } from "./slo-threshold.js";

export { compare, minimumRequests } from "./slo-threshold.js";

export function evaluateSlo(check: SloCheck, client: ClientStats, windows: readonly WindowRecord[]): CheckResult {
  const { expression } = check;
  const name = windowName(check.window);
  const unit = expression.metric.kind === "error_rate" ? "fraction" : "us";
  const result = (
    status: CheckResult["status"],
    observed: number | null,
    evidence: Record<string, unknown>,
    reason: string | null,
  ): CheckResult => ({
    name: check.name,
    kind: "slo",
    status,
    expression: expression.source,
    window: name,
    observed,
    threshold: expression.threshold,
    unit,
    evidence,
    reason,
    location: check.location,
  });

  const span = windows.find((w) => w.name === name);
  const stats = client.windows[name];
  if (span === undefined || stats === undefined) {
    const known = windows.map((w) => `"${w.name}"`).join(", ") || "none";
    const missing = span === undefined ? "is not one of the run's windows" : "has no client statistics";
    return result("error", null, {}, `window "${name}" ${missing} (windows: ${known})`);
  }

  const { requests, errors } = stats;
  const notSent = stats.notSent ?? 0;
  const minimum = minimumRequests(expression.metric, expression.threshold);
  const evidence = { requests, errors, ...(notSent > 0 ? { notSent } : {}), windowStart: span.start, windowEnd: span.end, minimumRequests: minimum };
  const where = `window ${name} (${span.start}–${span.end} ms)`;
  if (requests === 0) return result("inconclusive", null, evidence, `no requests started in ${where}`);

  let observed: number | null;
  if (expression.metric.kind === "error_rate") observed = errors / requests;
  else {
    const at = servedPercentile(expression.metric.percentile, requests, notSent);
    if (at === null) {
      // The percentile lies among requests never sent: slower than any latency.
      const passed = compare(Number.POSITIVE_INFINITY, expression.op, expression.threshold);
      const why = `p(${expression.metric.percentile}) of ${where} falls among its ${notSent} requests that were never sent (the load's in-flight cap was reached), which count as slower than any threshold`;
      return result(passed ? "passed" : "failed", null, evidence, why);
    }
    observed = percentileOf(stats.histogram, at);
  }
  if (observed === null) return result("error", null, evidence, `the latency histogram of ${where} is empty but ${requests} requests were counted`);

  if (requests < minimum) {
    const need =
      expression.metric.kind === "error_rate"
        ? `an error rate threshold of ${formatPercent(expression.threshold)} needs at least ${minimum} requests to be resolved`
        : `p(${expression.metric.percentile}) needs at least ${minimum} requests to differ from the maximum`;
    return result("inconclusive", observed, evidence, `${need}; ${where} has ${requests}`);
  }

  const passed = compare(observed, expression.op, expression.threshold);
  return result(passed ? "passed" : "failed", observed, evidence, null);
}

/**
 * Requests never sent (an open load's in-flight cap) have no latency: they count as slower than
 * any threshold. p(N) over all `requests` is then p(N') of the histogram of those that were
 * sent, with N' = 100 × rank / sent — or lies among the unsent ones (null).
 */
export function servedPercentile(percentile: number, requests: number, notSent: number): number | null {
  if (notSent <= 0) return percentile;
  const served = requests - notSent;
  const rank = Math.max(1, Math.ceil((percentile / 100) * requests - 1e-9));
  if (rank > served) return null;
  return (100 * rank) / served;
}

function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(6))}%`;
}
