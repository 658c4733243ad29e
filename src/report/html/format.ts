// Human formatting shared by the HTML, JUnit and Markdown reporters. The report stores raw
// units (fractions, microseconds, milliseconds); readers get %, ms and s.
import type { CheckResult, CheckStatus } from "../types.js";

/** Fixed decimals with trailing zeros removed: trimNumber(1.50, 2) === "1.5". */
export function trimNumber(value: number, decimals: number): string {
  const fixed = value.toFixed(decimals);
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** Thousands separators without depending on the machine's locale: 12345 → "12,345". */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const [int = "0", frac] = trimNumber(Math.abs(value), Number.isInteger(value) ? 0 : 2).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (value < 0 ? "-" : "") + grouped + (frac ? `.${frac}` : "");
}

/** A fraction as a percentage: 0.0123 → "1.23%". */
export function formatPercent(fraction: number): string {
  const pct = fraction * 100;
  if (pct === 0) return "0%";
  const abs = Math.abs(pct);
  if (abs < 0.001) return pct < 0 ? ">-0.001%" : "<0.001%";
  if (abs >= 1) return `${trimNumber(pct, 2)}%`;
  return `${trimNumber(Number(pct.toPrecision(3)), 6)}%`;
}

/** Microseconds as milliseconds: 912400 → "912 ms", 450 → "0.45 ms". */
export function formatLatencyUs(us: number): string {
  const ms = us / 1000;
  const abs = Math.abs(ms);
  if (abs >= 100) return `${formatCount(Math.round(ms))} ms`;
  if (abs >= 10) return `${trimNumber(ms, 1)} ms`;
  if (abs >= 1) return `${trimNumber(ms, 2)} ms`;
  return `${trimNumber(ms, 3)} ms`;
}

/** A duration: 850 → "850 ms", 2300 → "2.3 s", 90000 → "1m 30s". */
export function formatDurationMs(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${trimNumber(ms, abs < 10 ? 2 : 0)} ms`;
  if (abs < 60_000) return `${trimNumber(ms / 1000, 2)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = (ms - minutes * 60_000) / 1000;
  return seconds === 0 ? `${minutes}m` : `${minutes}m ${trimNumber(seconds, 1)}s`;
}

/** A time since the start of load: 10250 → "10.25 s", 95000 → "1m 35s". */
export function formatOffsetMs(ms: number): string {
  if (Math.abs(ms) < 60_000) return `${trimNumber(ms / 1000, 2)} s`;
  return formatDurationMs(ms);
}

export function formatRatio(value: number): string {
  return `${trimNumber(value, 2)}×`;
}

/** observed/threshold of a check, in the unit the check declares. */
export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  switch (unit) {
    case "fraction":
      return formatPercent(value);
    case "us":
      return formatLatencyUs(value);
    case "ms":
      return formatDurationMs(value);
    case "ratio":
      return formatRatio(value);
    case "count":
    case "":
      return formatCount(value);
    default:
      return `${trimNumber(value, 3)} ${unit}`;
  }
}

/** Evidence values: numbers get units from the key's suffix (…Us, …Ms); objects become compact JSON. */
export function formatEvidenceValue(key: string, value: unknown): string {
  if (typeof value === "number") {
    if (/Us$/.test(key)) return formatLatencyUs(value);
    if (/(Ms|At)$/.test(key)) return formatDurationMs(value);
    if (/(Rate|Share|Fraction|Percent)$/i.test(key) && value >= 0 && value <= 1) return formatPercent(value);
    return Number.isInteger(value) ? formatCount(value) : trimNumber(value, 4);
  }
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "—";
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 300 ? `${json.slice(0, 299)}…` : json;
}

/** HTTP 1xx–3xx count as success; every other status, "timeout" and "error" as errors. */
export function isErrorStatus(status: string): boolean {
  return !/^[123]\d\d$/.test(status);
}

export function errorShare(statusCounts: Record<string, number>): { total: number; errors: number; share: number | null } {
  let total = 0;
  let errors = 0;
  for (const [status, count] of Object.entries(statusCounts)) {
    total += count;
    if (isErrorStatus(status)) errors += count;
  }
  return { total, errors, share: total > 0 ? errors / total : null };
}

/** What a check asserts, as the user wrote it: the SLO expression or the property name. */
export function checkSubject(check: CheckResult): string {
  return check.expression ?? check.property ?? check.name;
}

/** "observed 912 ms, threshold 800 ms" */
export function observedVsThreshold(check: CheckResult): string {
  return `observed ${formatValue(check.observed, check.unit)}, threshold ${formatValue(check.threshold, check.unit)}`;
}

/** Checks a reader must look at: everything that did not pass. */
export function isBreach(check: CheckResult): boolean {
  return check.status !== "passed";
}

export const STATUS_ORDER: readonly CheckStatus[] = ["failed", "error", "inconclusive", "passed"];

export function countByStatus(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { passed: 0, failed: 0, inconclusive: 0, error: 0 };
  for (const c of checks) counts[c.status]++;
  return counts;
}

/** "3 failed, 1 inconclusive, 3 passed of 7 checks" — statuses with a zero count are left out. */
export function summariseChecks(checks: readonly CheckResult[]): string {
  const counts = countByStatus(checks);
  const parts = STATUS_ORDER.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  const noun = checks.length === 1 ? "check" : "checks";
  return parts.length ? `${parts.join(", ")} of ${checks.length} ${noun}` : `no ${noun}`;
}
