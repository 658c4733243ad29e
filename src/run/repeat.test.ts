import { describe, expect, it } from "vitest";
import type { CheckResult, CheckStatus, RunReport } from "../model/run-report.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { bootstrapInterval, renderRepeatSummary, repeatSeed, runRepeated, summarizeRepeat, tInterval, wilson } from "./repeat.js";

const check = (name: string, status: CheckStatus, observed: number | null, unit = "ms"): CheckResult => ({
  name,
  kind: "property",
  status,
  property: name,
  observed,
  threshold: 1000,
  unit,
  evidence: {},
  reason: null,
  location: { line: 1, col: 1 },
});

const report = (runId: string, checks: CheckResult[], errors: RunReport["errors"] = []): RunReport =>
  ({ runId, verdict: "passed", exitCode: 0, errors, checks }) as unknown as RunReport;

describe("confidence intervals", () => {
  it("Wilson: 5 of 5 is not certainty, and the interval narrows with runs", () => {
    const five = wilson(5, 5);
    expect(five.estimate).toBe(1);
    expect(five.low).toBeCloseTo(0.5655, 3);
    expect(five.high).toBe(1);
    expect(wilson(50, 50).low).toBeCloseTo(0.9287, 3);
    const half = wilson(10, 20);
    expect(half.low).toBeCloseTo(0.2993, 3);
    expect(half.high).toBeCloseTo(0.7007, 3);
    expect(wilson(0, 0)).toEqual({ estimate: 0, low: 0, high: 1 });
  });

  it("Student's t for a handful of runs, a seeded percentile bootstrap for many", () => {
    const t = tInterval([100, 120, 110]);
    expect(t.mean).toBe(110);
    // sd 10, n 3, t(2) = 4.303: ±24.84
    expect(t.low).toBeCloseTo(85.16, 1);
    expect(t.high).toBeCloseTo(134.84, 1);
    expect(tInterval([5])).toEqual({ mean: 5, low: null, high: null });
    const values = Array.from({ length: 20 }, (_, i) => 100 + (i % 5));
    const b = bootstrapInterval(values, 7);
    expect(b.mean).toBe(102);
    expect(b.low).toBeLessThan(102);
    expect(b.high).toBeGreaterThan(102);
    expect(bootstrapInterval(values, 7)).toEqual(b); // the same every time it is rendered
  });
});

describe("summarizeRepeat", () => {
  const reports = [
    report("r1", [check("failover", "passed", 300), check("ejection", "passed", 50)]),
    report("r2", [check("failover", "failed", 1400), check("ejection", "passed", 70)]),
    report("r3", [check("failover", "passed", 350), check("ejection", "inconclusive", null)]),
  ];

  it("passes a check only when it passed in every run by default", () => {
    const s = summarizeRepeat(reports, 3);
    const [failover, ejection] = s.checks;
    expect(failover).toMatchObject({ statuses: ["passed", "failed", "passed"], passed: 2, failed: 1, gate: "failed" });
    expect(ejection).toMatchObject({ passed: 2, inconclusive: 1, gate: "inconclusive" });
    expect(failover!.observed).toMatchObject({ unit: "ms", values: [300, 1400, 350], mean: 683.3333333333334 });
    expect(ejection!.observed!.values).toEqual([50, 70]);
    expect(s).toMatchObject({ runs: 3, quorum: 3, verdict: "failed", exitCode: 1 });
    expect(s.reports.map((r) => r.runId)).toEqual(["r1", "r2", "r3"]);
  });

  it("with a quorum, a check passes when it passed in at least that many runs", () => {
    const s = summarizeRepeat(reports, 2);
    expect(s.checks.map((c) => c.gate)).toEqual(["passed", "passed"]);
    expect(s).toMatchObject({ verdict: "passed", exitCode: 0, quorum: 2 });
  });

  it("a harness error in any run makes the gate an error", () => {
    const s = summarizeRepeat([...reports, report("r4", [check("failover", "passed", 1), check("ejection", "passed", 1)], [{ stage: "runtime", message: "x" }])], 2);
    expect(s).toMatchObject({ verdict: "error", exitCode: 3 });
  });

  it("renders a console table with pass counts and intervals", () => {
    const text = renderRepeatSummary(summarizeRepeat(reports, 3));
    expect(text.split("\n")[0]).toBe("repeat  3 runs, a check passes the gate when it passed in every run: FAILED  exit 1");
    expect(text).toContain("failover  2/3     66.7% [20.8%, 93.9%]");
  });
});

describe("runRepeated", () => {
  it("runs the scenario N times with seed + i, and stops when aborted", async () => {
    const seeds: number[] = [];
    const controller = new AbortController();
    const scenario = { seed: 4_294_967_295 } as ResolvedScenario;
    const { reports, summary } = await runRepeated(
      scenario,
      5,
      5,
      async (s) => {
        seeds.push(s.seed);
        if (seeds.length === 3) controller.abort();
        return report(`r${seeds.length}`, [check("failover", "passed", 1)]);
      },
      { signal: controller.signal },
    );
    expect(seeds).toEqual([4_294_967_295, 0, 1]);
    expect(reports).toHaveLength(3);
    expect(summary.runs).toBe(3);
    expect(repeatSeed(7, 2)).toBe(9);
  });
});
