// traffic_split on simulated runs (fixtures.ts): the simulator's callers pick a version per try
// by the split in force (the policy's or a shift's, by schedule), at random, then round-robin
// within it; without a split, round-robin over every replica.
import { describe, expect, it } from "vitest";
import type { PropertyCheck, ResolvedScenario } from "../../scenario/types.js";
import { canary, contextOf, landedFault, scenario, service, shift, simulate } from "./fixtures.js";
import { evaluateProperty } from "./index.js";
import { shiftsOf, splitPeriods } from "./shifts.js";
import { firstTriesTo } from "./traffic-split.js";

const check = (params: Record<string, unknown> = {}): PropertyCheck => ({
  kind: "property",
  name: "traffic_split payments",
  property: "traffic_split",
  params: { target: { service: "payments", replica: null }, ...params },
  location: { line: 1, col: 1 },
});

const judge = (sc: ResolvedScenario, params: Record<string, unknown> = {}, played = sc) => evaluateProperty(check(params), contextOf(sc, simulate(played)));

describe("traffic_split", () => {
  it("passes when each version's share of first tries is within the tolerance of the policy's split", () => {
    const r = judge(canary({ v1: 0.9, v2: 0.1 }));
    expect(r).toMatchObject({ status: "passed", unit: "fraction", threshold: 0.05 });
    expect(r.observed!).toBeLessThan(0.03);
    expect(r.evidence).toMatchObject({ versions: { v1: ["payments-0", "payments-1", "payments-2"], v2: ["payments-3"] }, policySplit: "policies.payments.split", firstTries: 2000, minimumRequests: 200, settleMs: 1000 });
    const [period] = r.evidence.periods as { expected: Record<string, number>; requests: number; byVersion: Record<string, number>; split: string }[];
    expect(period).toMatchObject({ start: 0, end: 20_000, judgedFrom: 0, split: "policy", expected: { v1: 0.9, v2: 0.1 }, requests: 2000, status: "passed" });
    expect(period!.byVersion.v1! + period!.byVersion.v2!).toBe(2000);
    expect(r.evidence.summary).toMatch(/^worst: v[12] got \d+(\.\d+)?% of 2000 first tries to payments in policy \[0 ms, 20 s\), expected \d+% \(tolerance 5%\)$/);
  });

  it("expects shares proportional to replica counts when the policy has no split", () => {
    const r = judge(canary(null));
    expect(r.status).toBe("passed");
    expect(r.evidence.policySplit).toBe("none: every replica an equal share");
    expect((r.evidence.periods as { expected: unknown; observed: unknown }[])[0]).toMatchObject({ expected: { v1: 0.75, v2: 0.25 }, observed: { v1: 0.75, v2: 0.25 } });
  });

  it("fails when the observed split is off by more than the tolerance", () => {
    // Judged against 90/10 while the sidecars spread the requests evenly over the replicas (75/25).
    const r = judge(canary({ v1: 0.9, v2: 0.1 }), {}, canary(null));
    expect(r.status).toBe("failed");
    expect(r.observed).toBeCloseTo(0.15, 5);
    expect(r.reason).toBe("policy [0 ms, 20 s): off by 15% (v1 75%, v2 25%; expected v1 90%, v2 10%)");
  });

  it("judges each shift's period after a settling second, and the policy's split again after a shift ends", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [shift("to-half", { v1: 0.5, v2: 0.5 }, 6000, 6000)]);
    const r = judge(sc);
    expect(r.status).toBe("passed");
    const periods = r.evidence.periods as { start: number; end: number; judgedFrom: number; split: string; expected: unknown; requests: number }[];
    expect(periods.map(({ start, end, judgedFrom, split, expected, requests }) => ({ start, end, judgedFrom, split, expected, requests }))).toEqual([
      { start: 0, end: 6000, judgedFrom: 0, split: "policy", expected: { v1: 0.9, v2: 0.1 }, requests: 600 },
      { start: 6000, end: 12_000, judgedFrom: 7000, split: "to-half", expected: { v1: 0.5, v2: 0.5 }, requests: 500 },
      { start: 12_000, end: 20_000, judgedFrom: 13_000, split: "policy", expected: { v1: 0.9, v2: 0.1 }, requests: 700 },
    ]);
  });

  it("fails the period of a shift the sidecars did not take", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [shift("to-half", { v1: 0.5, v2: 0.5 }, 6000, 6000)]);
    const r = judge(sc, {}, canary({ v1: 0.9, v2: 0.1 }));
    expect(r.status).toBe("failed");
    expect(r.reason).toMatch(/^to-half \[6 s, 12 s\): off by \d+(\.\d+)?% \(v1 \d+(\.\d+)?%, v2 \d+(\.\d+)?%; expected v1 50%, v2 50%\)$/);
    expect((r.evidence.periods as { status: string }[]).map((p) => p.status)).toEqual(["passed", "failed", "passed"]);
  });

  it("keeps a shift without a duration until the load ends, and the shift that started last where shifts overlap", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [shift("half", { v1: 0.5, v2: 0.5 }, 5000, 10_000), shift("rollback", { v1: 1 }, 8000, 12_000)]);
    const periods = splitPeriods({ v1: 0.9, v2: 0.1 }, shiftsOf(sc, "payments"), [], 20_000);
    expect(periods.map(({ start, end, source }) => [start, end, source])).toEqual([
      [0, 5000, "policy"],
      [5000, 8000, "half"],
      [8000, 20_000, "rollback"],
    ]);
    expect(periods[2]!.shares).toEqual({ v1: 1 });
    // A shift's span is its confirmed apply to its revert when the run recorded them.
    const applied = splitPeriods({ v1: 1 }, shiftsOf(sc, "payments").slice(0, 1), [landedFault("half", 5040, 15_020)], 20_000);
    expect(applied.map(({ start, end }) => [start, end])).toEqual([[0, 5040], [5040, 15_020], [15_020, 20_000]]);
    expect(judge(sc).status).toBe("passed");
  });

  it("counts first tries only: retries of a failing version are redispatched and would skew the shares", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [], 3);
    sc.services[1]!.versions![1]!.errorRate = 1;
    const run = simulate(sc);
    const r = evaluateProperty(check(), contextOf(sc, run));
    expect(r.status).toBe("passed");
    expect(r.evidence.firstTries).toBe(2000);
    const allTries = run.events.filter((e) => e.kind === "attempt" && e.route === "payments").length;
    expect(allTries).toBeGreaterThan(2100);
    expect([...firstTriesTo(run.events, "payments")]).toHaveLength(2000);
  });

  it("is inconclusive when a period has too few requests for the tolerance", () => {
    const late = judge(canary({ v1: 0.9, v2: 0.1 }, [shift("late", { v1: 0.5, v2: 0.5 }, 19_000, 1000)]));
    expect(late.status).toBe("inconclusive");
    expect(late.reason).toBe("a share within 5% needs at least 200 requests to payments in a period; late [19 s, 20 s) had 0");
    const sc = canary(null);
    const tight = evaluateProperty(check({ tolerance: 0.01 }), contextOf(sc, simulate(sc, { times: Array.from({ length: 500 }, (_, i) => i * 40) })));
    expect(tight.status).toBe("inconclusive");
    expect(tight.reason).toBe("a share within 1% needs at least 1000 requests to payments in a period; policy [0 ms, 20 s) had 500");
    expect(tight.evidence.minimumRequests).toBe(1000);
  });

  it("depends on its shifts landing", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [shift("to-half", { v1: 0.5, v2: 0.5 }, 6000, 6000)]);
    const ctx = contextOf(sc, simulate(sc), { faults: [landedFault("to-half", 6000, 12_000, { kind: "shift" as never, landed: false, landedReason: "shift to-half was not applied" })] });
    const r = evaluateProperty(check(), ctx);
    expect(r).toMatchObject({ status: "inconclusive", reason: "shift to-half was not applied" });
  });

  it("is an error for a service without versions", () => {
    const sc = scenario({ services: [service("front", ["payments"]), service("payments", [], 2)] });
    const r = evaluateProperty(check(), contextOf(sc, simulate(sc, { times: [0] })));
    expect(r).toMatchObject({ status: "error", reason: "payments has no versions (services.payments.versions): there is no split between versions to judge" });
  });
});
