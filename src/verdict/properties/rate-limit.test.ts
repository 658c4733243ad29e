// rate_limit on synthetic logs: open-loop arrivals at a callee replica whose sidecar runs a token
// bucket (as images/haproxy/ratelimit.lua does), and a caller whose sidecar retries each 429 once
// after a chosen wait, so every branch of the verdict can be pinned down without Docker.
import { describe, expect, it } from "vitest";
import type { AccessLogEntry, AttemptEntry } from "../../dataplane/types.js";
import type { PropertyCheck, ResolvedScenario } from "../../scenario/types.js";
import { contextOf, policy, scenario, service, T0 } from "./fixtures.js";
import { evaluateProperty } from "./index.js";
import { busiestSecond, rateLimitTolerance } from "./rate-limit.js";

const check = (target = "api"): PropertyCheck => ({
  kind: "property",
  name: `rate_limit ${target}`,
  property: "rate_limit",
  params: { target: { service: target, replica: null } },
  location: { line: 1, col: 1 },
});

function sc(limit: { requestsPerSecond: number; burst: number } | null): ResolvedScenario {
  return scenario({
    services: [service("front", ["api"]), service("api")],
    policies: { api: policy({ rateLimit: limit, retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["429"], budget: null } }) },
    load: { ...scenario({ services: [service("front")] }).load, target: "front", durationMs: 5000 },
  });
}

interface Sim {
  rate: number;
  /** The bucket the simulated callee enforces; null: none (every request served). */
  bucket: { rate: number; burst: number } | null;
  /** How long the caller waits after a 429 before its one retry; null: no retry. */
  retryAfterWaitMs: number | null;
}

function logs(o: Sim): { entries: AccessLogEntry[]; events: AttemptEntry[] } {
  const entries: AccessLogEntry[] = [];
  const events: AttemptEntry[] = [];
  let tokens = o.bucket?.burst ?? 0;
  let last = 0;
  const arrive = (t: number, requestId: string, waitedMs?: number) => {
    let limited = false;
    if (o.bucket) {
      tokens = Math.min(o.bucket.burst, tokens + ((t - last) * o.bucket.rate) / 1000);
      last = t;
      if (tokens >= 1) tokens -= 1;
      else limited = true;
    }
    const status = limited ? 429 : 200;
    const inbound = { pod: "api-0", route: "api", from: "front", upstream: null, retries: 0, termination: limited ? "LR--" : "----", fault: null };
    entries.push({ ...inbound, ts: T0 + t, direction: "inbound", status, durationMs: limited ? 0 : 1, requestId, healthCheck: false, rateLimited: limited });
    const attempt: AttemptEntry = {
      kind: "attempt",
      ts: T0 + t,
      pod: "front-0",
      route: "api",
      replica: 0,
      requestId,
      status,
      durationMs: (limited ? 1 : 2) + (waitedMs ?? 0),
      outcome: "ok",
      fault: null,
      termination: "----",
      ...(limited ? { retryAfterMs: 1000 } : {}),
      ...(waitedMs !== undefined ? { waitedMs } : {}),
    };
    events.push(attempt);
    return attempt;
  };
  const pending: { t: number; id: string; waited: number }[] = [];
  for (let i = 0; i < (5000 * o.rate) / 1000; i++) {
    const t = (i * 1000) / o.rate;
    while (pending.length && pending[0]!.t <= t) {
      const p = pending.shift()!;
      arrive(p.t, p.id, p.waited);
    }
    const a = arrive(t, `front-0.${i}`);
    if (a.status === 429 && o.retryAfterWaitMs !== null && t + 1 + o.retryAfterWaitMs < 5000) {
      pending.push({ t: t + 1 + o.retryAfterWaitMs, id: `front-0.${i}`, waited: o.retryAfterWaitMs });
    }
  }
  return { entries, events };
}

function judge(s: ResolvedScenario, run: { entries: AccessLogEntry[]; events: AttemptEntry[] }) {
  return evaluateProperty(check(), contextOf(s, { ...run, samples: [] }));
}

describe("rate_limit", () => {
  it("passes when each replica serves the limit, refuses the rest with 429, and callers wait out Retry-After", () => {
    const r = judge(sc({ requestsPerSecond: 50, burst: 5 }), logs({ rate: 150, bucket: { rate: 50, burst: 5 }, retryAfterWaitMs: 1000 }));
    expect(r.status).toBe("passed");
    expect(r.observed).toBeLessThanOrEqual(56);
    expect(r.observed).toBeGreaterThanOrEqual(50);
    expect(r.threshold).toBe(55 + rateLimitTolerance(55));
    expect(r.evidence).toMatchObject({ bound: 55, spansOver: 0, limitedNot429: 0 });
    expect(r.evidence.limited as number).toBeGreaterThan(400);
    expect(r.evidence.retryAfter).toMatchObject({ tooEarly: 0, without: 0 });
    expect((r.evidence.retryAfter as { retriesAfter429: number }).retriesAfter429).toBeGreaterThan(300);
    expect((r.evidence.retryAfter as { minMarginMs: number }).minMarginMs).toBeGreaterThanOrEqual(0);
  });

  it("fails when a replica serves more than the limit allows in a second", () => {
    // The proxy enforces 100/s while the policy says 50/s (burst 5).
    const r = judge(sc({ requestsPerSecond: 50, burst: 5 }), logs({ rate: 150, bucket: { rate: 100, burst: 5 }, retryAfterWaitMs: null }));
    expect(r.status).toBe("failed");
    expect(r.observed).toBeGreaterThan(95);
    expect(r.reason).toContain("served more than 55 + 1 in one second");
  });

  it("fails when callers retry a 429 before its Retry-After", () => {
    const r = judge(sc({ requestsPerSecond: 50, burst: 5 }), logs({ rate: 150, bucket: { rate: 50, burst: 5 }, retryAfterWaitMs: 200 }));
    expect(r.status).toBe("failed");
    expect(r.reason).toMatch(/retries started before their Retry-After/);
    expect((r.evidence.retryAfter as { examples: { gapMs: number }[] }).examples[0]!.gapMs).toBeLessThan(1000);
  });

  it("is inconclusive when the load never reaches the limit", () => {
    const r = judge(sc({ requestsPerSecond: 50, burst: 5 }), logs({ rate: 20, bucket: { rate: 50, burst: 5 }, retryAfterWaitMs: 1000 }));
    expect(r.status).toBe("inconclusive");
    expect(r.reason).toContain("never reached api's rate limit");
  });

  it("is an error when the service has no rate limit", () => {
    const r = judge(sc(null), logs({ rate: 20, bucket: null, retryAfterWaitMs: null }));
    expect(r.status).toBe("error");
    expect(r.reason).toContain("api has no rateLimit");
  });

  it("finds the busiest one-second span wherever it starts", () => {
    expect(busiestSecond([])).toEqual({ start: 0, count: 0 });
    expect(busiestSecond([0, 500, 999, 1000, 1400, 1500, 1600])).toEqual({ start: 999, count: 5 });
  });
});
