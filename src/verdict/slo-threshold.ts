// An SLO's threshold: how it compares, and how many requests it takes to tell a metric apart from
// it. Pure and dependency-free, so the plan (recorder settings) and the properties' sliding
// windows use it without loading the histogram library that evaluating an SLO needs.
import type { Comparator, SloMetric } from "../scenario/types.js";

/**
 * Fewest requests for which the metric can be told apart from its threshold:
 * - p(N) needs ceil(100 / (100 - N)) samples, or the percentile is just the maximum
 *   (p(99) needs 100, p(99.9) 1000; p(100) is the maximum and needs 1);
 * - an error rate threshold t needs ceil(1 / t) requests, or a single error already exceeds it
 *   (1% needs 100; a threshold of 0 needs 1).
 */
export function minimumRequests(metric: SloMetric, threshold: number): number {
  if (metric.kind === "percentile") {
    return metric.percentile >= 100 ? 1 : ceilTolerant(100 / (100 - metric.percentile));
  }
  return threshold <= 0 || threshold >= 1 ? 1 : ceilTolerant(1 / threshold);
}

/** ceil that forgives binary floating-point noise: 100 / (100 - 99.9) is 1000.0000000006. */
function ceilTolerant(x: number): number {
  return Math.ceil(x - 1e-9 * Math.max(1, x));
}

export function compare(observed: number, op: Comparator, threshold: number): boolean {
  switch (op) {
    case "<":
      return observed < threshold;
    case "<=":
      return observed <= threshold;
    case ">":
      return observed > threshold;
    case ">=":
      return observed >= threshold;
  }
}
