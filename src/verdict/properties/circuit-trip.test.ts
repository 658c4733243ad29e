// circuit_trip on synthetic logs: a caller's sidecar with a concurrency breaker in front of a
// callee that slows down during a fault, simulated request by request (admitted while fewer than
// maxConnections + maxPending are in flight, refused at once otherwise), so the verdict's every
// branch can be pinned down without Docker.
import { describe, expect, it } from "vitest";
import type { AccessLogEntry } from "../../dataplane/types.js";
import type { PropertyCheck, ResolvedFault, ResolvedScenario } from "../../scenario/types.js";
import { contextOf, policy, scenario, service, T0 } from "./fixtures.js";
import { evaluateProperty } from "./index.js";

const check = (params: Record<string, unknown>): PropertyCheck => ({
  kind: "property",
  name: "circuit_trip",
  property: "circuit_trip",
  params: { edge: { from: "front", to: "payments" }, withinMs: 1000, ...params },
  location: { line: 1, col: 1 },
});

const slow: ResolvedFault = {
  name: "slow",
  kind: "delay",
  target: "payments",
  replicas: [0],
  from: null,
  match: null,
  probability: 1,
  atMs: 4000,
  durationMs: 4000,
  delay: { minMs: 400, maxMs: 400 },
  location: { line: 1, col: 1 },
};

function sc(breaker: { maxConnections: number; maxPending: number } | null): ResolvedScenario {
  return scenario({
    services: [service("front", ["payments"]), service("payments")],
    policies: { payments: policy({ circuitBreaker: breaker }) },
    faults: [slow],
    load: { ...scenario({ services: [service("front")] }).load, target: "front", durationMs: 12_000 },
  });
}

interface SimOptions {
  /** The breaker the simulated sidecar enforces (null: none, every request admitted). */
  enforce: { maxConnections: number; maxPending: number } | null;
  /** Service time of payments at t (ms from the start of load). */
  serviceMs: (t: number) => number;
  /** Refusals keep coming this long after the fault (a breaker that does not let go). */
  stuckUntil?: number;
  rate?: number;
}

/** Open-loop arrivals at `rate` for 12 s through a caller sidecar with a breaker. */
function logs(o: SimOptions): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  const busy: number[] = []; // end times of admitted requests (serving or waiting)
  const servers: number[] = []; // when each of maxConnections slots frees
  const rate = o.rate ?? 100;
  const slots = o.enforce?.maxConnections ?? 1_000_000;
  for (let i = 0; i < (12_000 * rate) / 1000; i++) {
    const t = (i * 1000) / rate;
    for (let j = busy.length - 1; j >= 0; j--) if (busy[j]! <= t) busy.splice(j, 1);
    const limit = o.enforce ? o.enforce.maxConnections + o.enforce.maxPending : Number.POSITIVE_INFINITY;
    const refuse = busy.length >= limit || (o.stuckUntil !== undefined && t > 8000 && t < o.stuckUntil);
    const base = { pod: "front-0", route: "payments", from: null, upstream: null, retries: 0, termination: "----", fault: null };
    if (refuse) {
      out.push({ ...base, ts: T0 + t, direction: "outbound", status: 503, durationMs: 0, cause: "overflow" });
      continue;
    }
    // The earliest free server slot (FIFO queue in front of maxConnections slots).
    while (servers.length < Math.min(slots, 1000)) servers.push(0);
    servers.sort((a, b) => a - b);
    const start = Math.max(t, servers[0]!);
    const end = start + o.serviceMs(start);
    servers[0] = end;
    busy.push(end);
    out.push({ ...base, ts: T0 + t, direction: "outbound", upstream: "payments-0", status: 200, durationMs: end - t, cause: "ok" });
    out.push({ ...base, ts: T0 + start, pod: "payments-0", direction: "inbound", from: "front", fromReplica: 0, status: 200, durationMs: end - start });
  }
  return out;
}

const slowDuringFault = (t: number): number => (t >= 4000 && t < 8000 ? 400 : 2);

function judge(s: ResolvedScenario, entries: AccessLogEntry[], params: Record<string, unknown> = { fault: "slow" }) {
  return evaluateProperty(check(params), contextOf(s, { entries, events: [], samples: [] }));
}

describe("circuit_trip", () => {
  it("passes when the breaker refuses as soon as the caller reaches its limits, stops after the fault, and the callee never has more than maxConnections", () => {
    const breaker = { maxConnections: 10, maxPending: 4 };
    const r = judge(sc(breaker), logs({ enforce: breaker, serviceMs: slowDuringFault }));
    expect(r.status).toBe("passed");
    expect(r.observed).toBeLessThan(100);
    expect(r.evidence).toMatchObject({ maxConnections: 10, maxPending: 4, peakInFlightAtCallee: 10 });
    expect(r.evidence.refusals as number).toBeGreaterThan(200);
    expect(r.evidence.firstRefusal as number).toBeGreaterThanOrEqual(4000);
    expect(r.evidence.lastRefusal as number).toBeLessThan(9000);
    expect((r.evidence.refusalsPerSecond as { t: number; refused: number }[]).find((s) => s.t === 5)?.refused).toBeGreaterThan(50);
  });

  it("fails when the callee got more than maxConnections at once (the breaker let the limit be exceeded)", () => {
    const configured = { maxConnections: 10, maxPending: 4 };
    const r = judge(sc(configured), logs({ enforce: { maxConnections: 20, maxPending: 4 }, serviceMs: slowDuringFault }));
    expect(r.status).toBe("failed");
    expect(r.reason).toContain("over maxConnections 10");
  });

  it("fails when the breaker never refused though the caller was at its limits", () => {
    const configured = { maxConnections: 10, maxPending: 4 };
    const r = judge(sc(configured), logs({ enforce: null, serviceMs: slowDuringFault }));
    expect(r.status).toBe("failed");
    expect(r.reason).toMatch(/never refused a request in fault slow/);
  });

  it("fails when it kept refusing long after the fault ended", () => {
    const breaker = { maxConnections: 10, maxPending: 4 };
    const r = judge(sc(breaker), logs({ enforce: breaker, serviceMs: slowDuringFault, stuckUntil: 10_500 }));
    expect(r.status).toBe("failed");
    expect(r.reason).toMatch(/still refused at 10\.\d+ s, more than 1 s after fault slow ended/);
  });

  it("fails, saying so, when the edge has no breaker at all", () => {
    const r = judge(sc(null), logs({ enforce: null, serviceMs: slowDuringFault }));
    expect(r.status).toBe("failed");
    expect(r.reason).toBe("policies.payments has no circuitBreaker.maxConnections: there is no breaker on front → payments to trip");
  });

  it("is inconclusive when the load never reached the breaker's limits", () => {
    const breaker = { maxConnections: 10, maxPending: 4 };
    const r = judge(sc(breaker), logs({ enforce: breaker, serviceMs: () => 2 }));
    expect(r.status).toBe("inconclusive");
    expect(r.reason).toMatch(/no front sidecar reached the breaker's limits/);
  });

  it("without a fault, judges the whole load from the first moment the caller was at its limits", () => {
    const breaker = { maxConnections: 10, maxPending: 4 };
    const r = judge(sc(breaker), logs({ enforce: breaker, serviceMs: slowDuringFault }), {});
    expect(r.status).toBe("passed");
    expect(r.window).toBe("whole");
    expect(r.evidence.overloadStart as number).toBeGreaterThan(4000);
  });
});
