import { describe, expect, it } from "vitest";
import { ClientRecorder } from "../observe/client-recorder.js";
import type { WindowSpan } from "../plan/types.js";
import type { ClientStats } from "../model/run-report.js";
import type { SloCheck, SloExpression, WindowRef } from "../scenario/types.js";
import { evaluateChecks } from "./evaluate-checks.js";
import { minimumRequests, evaluateSlo, servedPercentile } from "./slo.js";

const WINDOWS: WindowSpan[] = [
  { name: "whole", ref: { kind: "whole" }, start: 0, end: 60_000 },
  { name: "baseline", ref: { kind: "baseline" }, start: 0, end: 10_000 },
  { name: "fault:abort", ref: { kind: "fault", fault: "abort" }, start: 10_000, end: 30_000 },
  { name: "recovery:abort", ref: { kind: "recovery", fault: "abort" }, start: 30_000, end: 60_000 },
];

function check(source: string, metric: SloExpression["metric"], op: SloExpression["op"], threshold: number, window: WindowRef): SloCheck {
  return {
    kind: "slo",
    name: `${source} @ ${window.kind}`,
    expression: { source, metric, op, threshold },
    window,
    location: { line: 12, col: 5 },
  };
}
const errorRateBelow = (t: number, window: WindowRef = { kind: "whole" }) =>
  check(`error_rate < ${t * 100}%`, { kind: "error_rate" }, "<", t, window);
const percentileBelow = (p: number, us: number, window: WindowRef = { kind: "whole" }) =>
  check(`p(${p}) < ${us / 1000}ms`, { kind: "percentile", percentile: p }, "<", us, window);

/** `n` requests starting at `fromMs`, one a millisecond; request i takes latency(i) µs and fails when failed(i). */
function client(n: number, opts: { fromMs?: number; latency?: (i: number) => number; failed?: (i: number) => boolean } = {}): ClientStats {
  const r = new ClientRecorder(WINDOWS);
  for (let i = 0; i < n; i++) {
    r.record({
      startUs: ((opts.fromMs ?? 0) + i) * 1000,
      latencyUs: opts.latency?.(i) ?? 10_000,
      status: opts.failed?.(i) ? 503 : 200,
    });
  }
  return r.stats();
}

describe("minimumRequests", () => {
  it("needs ceil(100 / (100 - N)) samples for p(N), forgiving float noise", () => {
    const p = (percentile: number) => minimumRequests({ kind: "percentile", percentile }, 0);
    expect([p(50), p(90), p(95), p(99), p(99.9), p(99.99), p(100)]).toEqual([2, 10, 20, 100, 1000, 10000, 1]);
    expect(p(99.5)).toBe(200);
    expect(p(97.5)).toBe(40);
  });

  it("needs ceil(1 / t) requests for an error-rate threshold t", () => {
    const e = (t: number) => minimumRequests({ kind: "error_rate" }, t);
    expect([e(0.01), e(0.001), e(0.003), e(0.05), e(0.5), e(0), e(1)]).toEqual([100, 1000, 334, 20, 2, 1, 1]);
  });
});

describe("evaluateSlo", () => {
  it("passes and fails an error-rate threshold on the window's requests", () => {
    const stats = client(200, { failed: (i) => i % 100 === 0 }); // 2 of 200: 1%
    const passed = evaluateSlo(errorRateBelow(0.02), stats, WINDOWS);
    expect(passed).toMatchObject({ status: "passed", observed: 0.01, threshold: 0.02, unit: "fraction", reason: null });
    expect(passed).toMatchObject({
      name: "error_rate < 2% @ whole",
      kind: "slo",
      expression: "error_rate < 2%",
      window: "whole",
      location: { line: 12, col: 5 },
      evidence: { requests: 200, errors: 2, windowStart: 0, windowEnd: 60_000, minimumRequests: 50 },
    });
    expect(evaluateSlo(errorRateBelow(0.01), stats, WINDOWS).status).toBe("failed"); // 1% is not < 1%
    const atMost = check("error_rate <= 1%", { kind: "error_rate" }, "<=", 0.01, { kind: "whole" });
    expect(evaluateSlo(atMost, stats, WINDOWS).status).toBe("passed");
  });

  it("judges a percentile in microseconds from the window's histogram", () => {
    const stats = client(1000, { latency: (i) => (i < 985 ? 20_000 : 900_000) }); // 1.5% slow
    const p99 = evaluateSlo(percentileBelow(99, 800_000), stats, WINDOWS);
    expect(p99.status).toBe("failed");
    expect(p99.unit).toBe("us");
    expect(p99.observed).toBeGreaterThanOrEqual(899_000);
    expect(p99.observed).toBeLessThanOrEqual(901_000);
    const p98 = evaluateSlo(percentileBelow(98, 800_000), stats, WINDOWS);
    expect(p98.status).toBe("passed");
    expect(p98.observed).toBeGreaterThanOrEqual(19_980);
    expect(p98.observed).toBeLessThanOrEqual(20_020);
    const above = check("p(50) > 10ms", { kind: "percentile", percentile: 50 }, ">", 10_000, { kind: "whole" });
    expect(evaluateSlo(above, stats, WINDOWS).status).toBe("passed");
  });

  it("uses only the requests that started in the check's window", () => {
    const stats = client(2000, { fromMs: 9_000, failed: (i) => i >= 1000 }); // every request from 10 s on fails
    expect(evaluateSlo(errorRateBelow(0.01, { kind: "baseline" }), stats, WINDOWS)).toMatchObject({
      status: "passed",
      observed: 0,
      evidence: { requests: 1000, errors: 0, windowStart: 0, windowEnd: 10_000 },
    });
    expect(evaluateSlo(errorRateBelow(0.01, { kind: "fault", fault: "abort" }), stats, WINDOWS)).toMatchObject({
      status: "failed",
      observed: 1,
      window: "fault:abort",
      evidence: { requests: 1000, errors: 1000, windowStart: 10_000, windowEnd: 30_000 },
    });
  });

  it("is inconclusive when no request started in the window", () => {
    const stats = client(500); // all within the first second
    const result = evaluateSlo(percentileBelow(99, 800_000, { kind: "recovery", fault: "abort" }), stats, WINDOWS);
    expect(result).toMatchObject({ status: "inconclusive", observed: null, evidence: { requests: 0 } });
    expect(result.reason).toBe("no requests started in window recovery:abort (30000–60000 ms)");
  });

  it("is inconclusive for p(N) with fewer than ceil(100 / (100 - N)) samples, and says how many it needs", () => {
    const tooFew = evaluateSlo(percentileBelow(99, 800_000), client(99), WINDOWS);
    expect(tooFew.status).toBe("inconclusive");
    expect(tooFew.observed).toBeGreaterThan(0); // still shown
    expect(tooFew.reason).toBe("p(99) needs at least 100 requests to differ from the maximum; window whole (0–60000 ms) has 99");
    expect(evaluateSlo(percentileBelow(99, 800_000), client(100), WINDOWS).status).toBe("passed");
    expect(evaluateSlo(percentileBelow(99.9, 800_000), client(999), WINDOWS).reason).toMatch(/at least 1000 requests/);
  });

  it("is inconclusive for an error-rate threshold t with fewer than ceil(1 / t) requests, and says how many it needs", () => {
    const tooFew = evaluateSlo(errorRateBelow(0.01), client(99), WINDOWS);
    expect(tooFew).toMatchObject({ status: "inconclusive", observed: 0, evidence: { minimumRequests: 100 } });
    expect(tooFew.reason).toBe(
      "an error rate threshold of 1% needs at least 100 requests to be resolved; window whole (0–60000 ms) has 99",
    );
    expect(evaluateSlo(errorRateBelow(0.01), client(100), WINDOWS).status).toBe("passed");
    expect(evaluateSlo(errorRateBelow(0.003), client(333), WINDOWS).reason).toMatch(/^an error rate threshold of 0.3% needs at least 334 requests/);
  });

  it("is an error, not a verdict, when the window does not exist", () => {
    const result = evaluateSlo(errorRateBelow(0.01, { kind: "fault", fault: "typo" }), client(500), WINDOWS);
    expect(result.status).toBe("error");
    expect(result.reason).toBe(
      'window "fault:typo" is not one of the run\'s windows (windows: "whole", "baseline", "fault:abort", "recovery:abort")',
    );
  });
});

describe("evaluateChecks", () => {
  it("evaluates SLO checks and hands property checks to the given evaluator, in order", () => {
    const property = {
      kind: "property" as const,
      name: "retry_amplification checkout->payments",
      property: "retry_amplification",
      params: { max: 1.5 },
      location: { line: 30, col: 5 },
    };
    const checks = [errorRateBelow(0.01), property];
    const without = evaluateChecks(checks, client(200), WINDOWS);
    expect(without.map((c) => [c.kind, c.status])).toEqual([
      ["slo", "passed"],
      ["property", "error"],
    ]);
    expect(without[1]!.reason).toBe('no evaluator for property "retry_amplification" was given to this run');
    const withEvaluator = evaluateChecks(checks, client(200), WINDOWS, (c) => ({ ...without[1]!, name: c.name, status: "passed", reason: null }));
    expect(withEvaluator[1]!.status).toBe("passed");
  });
});

describe("requests the open load could not send (notSent)", () => {
  /** 1000 requests, the last `notSent` of them never sent; the others take 10 ms. */
  function withNotSent(notSent: number): ClientStats {
    const r = new ClientRecorder(WINDOWS);
    for (let i = 0; i < 1000; i++) {
      r.record({ startUs: i * 1000, latencyUs: 10_000, status: i >= 1000 - notSent ? "notSent" : 200 });
    }
    return r.stats();
  }

  it("count as failed requests in error_rate", () => {
    const r = evaluateSlo(errorRateBelow(0.01), withNotSent(20), WINDOWS);
    expect(r).toMatchObject({ status: "failed", observed: 0.02 });
    expect(r.evidence).toMatchObject({ requests: 1000, errors: 20, notSent: 20 });
  });

  it("count as slower than any threshold in a percentile: p(99) with 2% unsent lies among them", () => {
    const r = evaluateSlo(percentileBelow(99, 50_000), withNotSent(20), WINDOWS);
    expect(r.status).toBe("failed");
    expect(r.observed).toBeNull();
    expect(r.reason).toBe(
      "p(99) of window whole (0–60000 ms) falls among its 20 requests that were never sent (the load's in-flight cap was reached), which count as slower than any threshold",
    );
  });

  it("shift a percentile that lies among the sent requests: p(90) with 2% unsent is p(91.8…) of those sent", () => {
    const r = evaluateSlo(percentileBelow(90, 50_000), withNotSent(20), WINDOWS);
    expect(r.status).toBe("passed");
    expect(r.observed! / 10_000).toBeCloseTo(1, 2); // the HDR histogram's bucket of 10 ms
    expect(servedPercentile(90, 1000, 20)).toBeCloseTo((100 * 900) / 980, 9);
    expect(servedPercentile(99, 1000, 0)).toBe(99);
    expect(servedPercentile(99, 1000, 11)).toBeNull();
  });
});
