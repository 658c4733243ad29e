// The run's live progress on stderr, once a second while its load plays: rewritten in place on a
// terminal, a plain line each time elsewhere (CI logs). Lines the run logs meanwhile clear it first.
import type { ProgressSnapshot } from "../observe/progress.js";
import { formatLatencyUs, formatPercent, formatSeconds } from "../report/format-number.js";
import type { CliIo } from "./io.js";

export interface ProgressLine {
  show(p: ProgressSnapshot): void;
  /** Before any other line: the progress line goes (on a terminal). */
  clear(): void;
}

export function describeProgress(p: ProgressSnapshot): string {
  const parts = [
    `${formatSeconds(p.elapsedMs, 0)}s/${formatSeconds(p.totalMs, 0)}s`,
    `${Math.round(p.rate)} req/s`,
    `errors ${p.errorShare === null ? "-" : formatPercent(p.errorShare)}`,
    `p99 ${p.p99Us === null ? "-" : formatLatencyUs(p.p99Us)}`,
  ];
  if (p.faults.length) parts.push(`faults on: ${p.faults.join(", ")}`);
  return parts.join("  ");
}

export function progressLine(io: Pick<CliIo, "stderr" | "isTTY">): ProgressLine {
  let shown = false;
  return {
    show(p) {
      if (io.isTTY) {
        io.stderr(`\r\x1b[2K  ${describeProgress(p)}`);
        shown = true;
      } else io.stderr(`  ${describeProgress(p)}\n`);
    },
    clear() {
      if (!shown) return;
      io.stderr("\r\x1b[2K");
      shown = false;
    },
  };
}
