import { describe, expect, it } from "vitest";
import { describeProgress, progressLine } from "./progress-line.js";

const snap = { elapsedMs: 12_000, totalMs: 30_000, rate: 99.6, errorShare: 0.031, p99Us: 47_600, requests: 1200, errors: 37, faults: ["payments-abort"] };

describe("the progress line", () => {
  it("says how far, the rate, errors, p99 and the faults on", () => {
    expect(describeProgress(snap)).toBe("12s/30s  100 req/s  errors 3.1%  p99 47.6ms  faults on: payments-abort");
    expect(describeProgress({ ...snap, errorShare: null, p99Us: null, faults: [] })).toBe("12s/30s  100 req/s  errors -  p99 -");
  });

  it("is rewritten in place on a terminal (cleared before other lines), a plain line elsewhere", () => {
    const tty: string[] = [];
    const t = progressLine({ isTTY: true, stderr: (s) => tty.push(s) });
    t.show(snap);
    t.clear();
    t.clear();
    expect(tty).toEqual([`\r\x1b[2K  ${describeProgress(snap)}`, "\r\x1b[2K"]);
    const ci: string[] = [];
    const c = progressLine({ isTTY: false, stderr: (s) => ci.push(s) });
    c.show(snap);
    c.clear();
    expect(ci).toEqual([`  ${describeProgress(snap)}\n`]);
  });
});
