// A local rate limit and callers that back off, against real pods (scenarios/rate-limit-with-backoff.yaml):
// a 50 req/s limit (burst 5) under 150 req/s of open-loop load, retries on 429, and a ratelimit
// fault with a 2 s Retry-After. Shows, from the sidecars' own logs: the callee serves at most 55
// in any second, the rest is answered 429, and no retry starts before its Retry-After. Run ids
// start "dev-rl-"; the run is removed whatever happens. About 25 s.
import { describe, expect, it } from "vitest";
import { runScenarioFile, runsOfThisFile } from "../integration/scenario-runs.js";

const runIds = runsOfThisFile();

interface Evidence {
  bound: number;
  limited: number;
  limitedNot429: number;
  perReplica: Record<string, { served: number; limited: number; busiestSecond: { served: number }; servedPerSecond: number[] }>;
  retryAfter: { retriesAfter429: number; tooEarly: number; without: number; minMarginMs: number | null };
  summary: string;
}

describe("rate_limit (scenarios/rate-limit-with-backoff.yaml)", () => {
  it("sheds what is over 50 req/s with 429, and the callers' retries wait out Retry-After", async () => {
    const runId = `dev-rl-backoff-${process.pid.toString(36)}`;
    runIds.push(runId);
    const report = await runScenarioFile("scenarios/rate-limit-with-backoff.yaml", runId);
    const check = report.checks.find((c) => c.property === "rate_limit")!;
    const e = check.evidence as unknown as Evidence;
    console.log(`rate-limit-with-backoff: ${check.status}; ${e.summary}; served per second ${JSON.stringify(e.perReplica["api-0"]?.servedPerSecond)}`);
    expect(check.status, check.reason ?? "").toBe("passed");
    // At most 50 + 5 in any one-second span, and the limit did bind.
    expect(e.bound).toBe(55);
    expect(e.perReplica["api-0"]!.busiestSecond.served).toBeLessThanOrEqual(55);
    expect(Math.max(...e.perReplica["api-0"]!.servedPerSecond)).toBeLessThanOrEqual(55);
    expect(e.limited).toBeGreaterThan(500);
    expect(e.limitedNot429).toBe(0);
    // Every retry after a 429 came after its Retry-After (1 s from the limit, 2 s from the fault).
    expect(e.retryAfter.retriesAfter429).toBeGreaterThan(300);
    expect(e.retryAfter.tooEarly).toBe(0);
    expect(e.retryAfter.without).toBe(0);
    expect(e.retryAfter.minMarginMs!).toBeGreaterThanOrEqual(-5);
    // The fault landed, and the 429s are put down to the limit or the fault.
    expect(report.faults.find((f) => f.name === "api-sheds")?.observedPercent).toBeGreaterThan(0.2);
    const causes = report.attribution!.byCause;
    expect(causes["rate-limited"]! + (causes["retries-exhausted"] ?? 0)).toBe(report.attribution!.failed);
    expect(report.edges.find((x) => x.from === "frontend" && x.to === "api")!.statusCounts["429"]).toBeGreaterThan(0);
  });
});
