// `meshquake run --repeat N [--quorum M]`: one scenario run N times, and a gate that trusts a
// check only when it passed in every run (or in M of them). Per check: how often it passed, with
// a Wilson score interval for the pass rate, and a 95% interval for the mean of what it observed
// (Student's t; a percentile bootstrap once there are enough runs for one). Pure except for
// runRepeated, which only sequences the runs it is given.
import type { CheckStatus, RepeatCheck, RepeatSummary, RunReport } from "../model/run-report.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { formatValue } from "../report/format-number.js";
import { exitCodeFor, overallVerdict } from "../verdict/verdict.js";
import { mulberry32 } from "../util/seeded-random.js";

/** z for a two-sided 95% interval. */
const Z95 = 1.959964;
/** Runs from which the bootstrap replaces the t-interval for the mean. */
export const BOOTSTRAP_MIN_RUNS = 10;
const BOOTSTRAP_RESAMPLES = 4000;

/** Wilson score interval (95%) for k successes in n trials. */
export function wilson(k: number, n: number, z = Z95): { estimate: number; low: number; high: number } {
  if (n === 0) return { estimate: 0, low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Two-sided 97.5% quantiles of Student's t, by degrees of freedom 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074,
  2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile975(dof: number): number {
  return dof >= 1 && dof <= 30 ? T975[dof - 1]! : Z95;
}

/** Mean with a 95% t-interval; one value has no interval. */
export function tInterval(values: readonly number[]): { mean: number; low: number | null; high: number | null } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, low: null, high: null };
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const half = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  // A measure that cannot be negative (a time, a ratio) does not get a negative bound.
  const floor = values.every((v) => v >= 0) ? 0 : Number.NEGATIVE_INFINITY;
  return { mean, low: Math.max(floor, mean - half), high: mean + half };
}

/** Percentile bootstrap (95%) of the mean, with a seeded generator so a report re-renders the same. */
export function bootstrapInterval(values: readonly number[], seed = 1, resamples = BOOTSTRAP_RESAMPLES): { mean: number; low: number; high: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const random = mulberry32(seed >>> 0 || 1);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(random() * n)]!;
    means[r] = s / n;
  }
  means.sort();
  return { mean, low: means[Math.floor(0.025 * (resamples - 1))]!, high: means[Math.ceil(0.975 * (resamples - 1))]! };
}

const SEVERITY: Record<CheckStatus, number> = { passed: 0, inconclusive: 1, failed: 2, error: 3 };

/** The aggregate of N reports of one scenario; a check passes the gate when it passed in at least `quorum` runs. */
export function summarizeRepeat(reports: readonly RunReport[], quorum: number): RepeatSummary {
  const runs = reports.length;
  const q = Math.min(Math.max(1, quorum), Math.max(1, runs));
  const names = reports[0]?.checks.map((c) => c.name) ?? [];
  const checks: RepeatCheck[] = names.map((name, i) => {
    // Every run judges the same scenario: its checks come in the same order.
    const results = reports.map((r) => (r.checks[i]?.name === name ? r.checks[i]! : null));
    const statuses = results.map((c) => c?.status ?? "error");
    const count = (s: CheckStatus) => statuses.filter((x) => x === s).length;
    const passed = count("passed");
    const values = results.flatMap((c) => (c && c.observed !== null && Number.isFinite(c.observed) ? [c.observed] : []));
    const unit = results.find((c) => c !== null)?.unit ?? "";
    let observed: RepeatCheck["observed"] = null;
    if (values.length > 0) {
      const t = tInterval(values);
      if (values.length >= BOOTSTRAP_MIN_RUNS) {
        const b = bootstrapInterval(values, hash(name));
        observed = { unit, values, mean: b.mean, low: b.low, high: b.high, method: `percentile bootstrap of the mean, ${BOOTSTRAP_RESAMPLES} resamples, 95%` };
      } else {
        observed = { unit, values, mean: t.mean, low: t.low, high: t.high, method: values.length < 2 ? "a single value: no interval" : `Student's t interval of the mean, 95%, ${values.length - 1} degrees of freedom` };
      }
    }
    const worstOther = statuses.filter((s) => s !== "passed").sort((a, b) => SEVERITY[b] - SEVERITY[a])[0] ?? "passed";
    return {
      name,
      kind: results.find((c) => c !== null)?.kind ?? "slo",
      statuses,
      passed,
      failed: count("failed"),
      inconclusive: count("inconclusive"),
      error: count("error"),
      passRate: wilson(passed, runs),
      observed,
      gate: runs > 0 && passed >= q ? "passed" : worstOther,
    };
  });
  const harnessErrors = reports.flatMap((r) => r.errors);
  const verdict = overallVerdict(
    checks.map((c) => ({ status: c.gate })),
    harnessErrors,
  );
  return {
    runs,
    quorum: q,
    reports: reports.map((r) => ({ runId: r.runId, verdict: r.verdict, exitCode: r.exitCode })),
    checks,
    verdict: runs === 0 ? "error" : verdict,
    exitCode: runs === 0 ? exitCodeFor("error") : exitCodeFor(verdict),
    method:
      `a check passes the gate when it passed in at least ${q} of ${runs} runs; otherwise it takes its most severe other status. ` +
      "Run i uses the scenario's seed + i. " +
      "Pass rates: Wilson score interval, 95%. Observed values: the mean with a 95% interval (Student's t; percentile bootstrap from " +
      `${BOOTSTRAP_MIN_RUNS} runs).`,
  };
}

/** Run i (from 0) draws with the scenario's seed + i: the same scenario, independent dice. */
export function repeatSeed(seed: number, index: number): number {
  return (seed + index) >>> 0;
}

/**
 * Runs the scenario up to `runs` times in a row (each run builds and tears down its own
 * topology), run i with repeatSeed(seed, i), and summarises; stops early, with what it has,
 * when the signal aborts.
 */
export async function runRepeated(
  scenario: ResolvedScenario,
  runs: number,
  quorum: number,
  runOnce: (scenario: ResolvedScenario) => Promise<RunReport>,
  options: { signal?: AbortSignal; onRun?: (index: number, report: RunReport) => void | Promise<void> } = {},
): Promise<{ reports: RunReport[]; summary: RepeatSummary }> {
  const reports: RunReport[] = [];
  for (let i = 0; i < runs; i++) {
    if (options.signal?.aborted) break;
    const report = await runOnce({ ...scenario, seed: repeatSeed(scenario.seed, i) });
    reports.push(report);
    await options.onRun?.(i, report);
  }
  return { reports, summary: summarizeRepeat(reports, quorum) };
}

/** The console table of a repeated run. */
export function renderRepeatSummary(summary: RepeatSummary): string {
  const rows = summary.checks.map((c) => [
    c.name,
    `${c.passed}/${summary.runs}`,
    `${pct(c.passRate.estimate)} [${pct(c.passRate.low)}, ${pct(c.passRate.high)}]`,
    c.observed === null || c.observed.mean === null
      ? "-"
      : `${formatValue(c.observed.mean, c.observed.unit)}${c.observed.low === null || c.observed.high === null ? "" : ` [${formatValue(c.observed.low, c.observed.unit)}, ${formatValue(c.observed.high, c.observed.unit)}]`}`,
    c.gate,
  ]);
  const header = ["check", "passed", "pass rate (95% CI)", "observed mean (95% CI)", "gate"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  const quorum = summary.quorum === summary.runs ? "every run" : `${summary.quorum} of ${summary.runs} runs`;
  return [
    `repeat  ${summary.runs} runs, a check passes the gate when it passed in ${quorum}: ${summary.verdict.toUpperCase()}  exit ${summary.exitCode}`,
    line(header),
    ...rows.map(line),
    "",
  ].join("\n");
}

function pct(x: number): string {
  return `${Number((x * 100).toFixed(1))}%`;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
