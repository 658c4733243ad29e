// Did a fault act as configured? Pure: reads only its FaultRecord. The verdict step makes every
// check judged over a fault that did not land `inconclusive`, never `passed`.
import type { FaultRecord } from "../model/run-report.js";

/**
 * Standard deviations of the binomial tolerance. 4σ: a fault that did land is called "not
 * landed" by chance about once in 16 000 runs, while a 100% fault that missed one request in 50
 * or a 50% fault off by a fifth over a few hundred requests is caught.
 */
export const LANDED_SIGMAS = 4;

/**
 * Largest |observed − configured| share consistent with `configured` over `n` Bernoulli draws:
 * 4σ of the binomial proportion, plus 1/n so a 0% or 100% fault tolerates the one request that
 * raced its switch.
 */
export function binomialTolerance(configured: number, n: number): number {
  if (n <= 0) return Number.POSITIVE_INFINITY;
  return LANDED_SIGMAS * Math.sqrt((configured * (1 - configured)) / n) + 1 / n;
}

const pct = (x: number) => `${Number((x * 100).toFixed(2))}%`;

export function faultLanded(record: FaultRecord): { landed: boolean; reason: string | null } {
  const no = (why: string) => ({ landed: false, reason: `fault ${record.name} did not land: ${why}` });
  if (record.error) return no(record.error);
  if (record.appliedAt === null) return no("it was never applied (the run ended before it was due, or its apply failed)");
  if (record.observedBy === "installed") return { landed: true, reason: null };

  const p = record.configuredPercent;
  const n = record.eligible;
  if (record.observedPercent === null) {
    if (n === 0 && record.affected === 0) return no(`no request reached ${target(record)} while it was on, so nothing shows it acting`);
    // Eligibility unknown (a header match without proxy counters): it landed if it acted at all.
    return record.affected > 0 || p === 0 ? { landed: true, reason: null } : no("no request was affected");
  }
  if (p > 0 && record.affected === 0) {
    return no(`none of the ${n} requests that reached ${target(record)} was affected (configured ${pct(p)})`);
  }
  const tolerance = record.tolerance ?? binomialTolerance(p, n);
  const off = Math.abs(record.observedPercent - p);
  if (off > tolerance + 1e-9) {
    return no(
      `it affected ${pct(record.observedPercent)} of ${n} requests (${record.affected}), configured ${pct(p)}; ` +
        `the binomial tolerance at this count is ±${pct(tolerance)}`,
    );
  }
  return { landed: true, reason: null };
}

function target(record: FaultRecord): string {
  return record.pods?.length ? record.pods.join(", ") : record.target;
}
