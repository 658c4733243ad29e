// What the HTML report counts from the model: error shares from status counts, checks by
// status. Numbers it prints are formatted by ../format-number.ts.
import type { CheckResult, CheckStatus } from "../../model/run-report.js";

/** HTTP 1xx–3xx and gRPC OK count as success; every other status, "timeout" and "error" as errors. */
export function isErrorStatus(status: string): boolean {
  return !/^[123]\d\d$/.test(status) && status !== "OK";
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
