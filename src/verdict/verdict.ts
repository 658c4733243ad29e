// The run's verdict and exit code. "The harness broke" is kept apart from "the system failed":
// a harness error outranks a breach, a breach outranks "could not show it".
import type { CheckStatus, HarnessError, Verdict } from "../model/run-report.js";

/** Process exit codes. `usage` and `interrupted` are decided by the CLI, the rest by the verdict. */
export const EXIT = {
  passed: 0,
  failed: 1,
  usage: 2,
  harness: 3,
  inconclusive: 4,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Most severe first: interrupted, harness error, usage, failed check, inconclusive, passed. */
export function worstExit(codes: number[]): number {
  const order = [EXIT.interrupted, EXIT.harness, EXIT.usage, EXIT.failed, EXIT.inconclusive, EXIT.passed];
  for (const c of order) if (codes.includes(c)) return c;
  return EXIT.passed;
}

const RANK: Record<Verdict, number> = { passed: 0, inconclusive: 1, failed: 2, error: 3 };

/** error > failed > inconclusive > passed; a run without checks and without errors passed. */
export function overallVerdict(checks: readonly { status: CheckStatus }[], errors: readonly HarnessError[] = []): Verdict {
  let verdict: Verdict = errors.length > 0 ? "error" : "passed";
  for (const { status } of checks) if (RANK[status] > RANK[verdict]) verdict = status;
  return verdict;
}

export function exitCodeFor(verdict: Verdict): ExitCode {
  switch (verdict) {
    case "passed":
      return EXIT.passed;
    case "failed":
      return EXIT.failed;
    case "inconclusive":
      return EXIT.inconclusive;
    case "error":
      return EXIT.harness;
  }
}
