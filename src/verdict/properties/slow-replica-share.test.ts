// slow_replica_share on simulated runs (fixtures.ts): the simulator balances round-robin over the
// replicas a caller has in rotation, so "a latency-aware balancer" is played by taking the slow
// replica out of rotation most of the time.
import { describe, expect, it } from "vitest";
import type { PropertyCheck, ResolvedFault, ResolvedScenario } from "../../scenario/types.js";
import { contextOf, faultOn, policy, scenario, service, simulate, type Behaviour } from "./fixtures.js";
import { evaluateProperty } from "./index.js";
import { minimumTries } from "./slow-replica-share.js";

const check = (params: Record<string, unknown>): PropertyCheck => ({
  kind: "property",
  name: "slow_replica_share",
  property: "slow_replica_share",
  params,
  location: { line: 1, col: 1 },
});

const delay = (name: string, replicas: number[], atMs = 2000, durationMs = 6000): ResolvedFault => ({
  ...faultOn(name, "payments", atMs, durationMs, replicas),
  kind: "delay",
  delay: { minMs: 150, maxMs: 150 },
});

/** front → payments (3 replicas), 100 req/s for 10 s. */
function topology(faults: ResolvedFault[]): ResolvedScenario {
  return scenario({
    services: [service("front", ["payments"]), service("payments", [], 3)],
    policies: { payments: policy({ loadBalancer: "peak-ewma" }) },
    faults,
    load: { target: "front", rate: 100, model: "open", arrivals: "constant", connections: 8, maxInFlight: 64, timeoutMs: 10_000, maxLagMs: 10, durationMs: 10_000, protocol: "http", requests: [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }], grpc: null },
  });
}

const slow = (name: string, replicas: number[]): Behaviour => (s, replica, t) =>
  s === "payments" && replicas.includes(replica) && t >= 2000 && t < 8000 ? { status: 200, delayMs: 150, fault: name } : null;

/** Out of rotation during the fault but for 30 ms in every `every`: what peak-ewma does. */
const avoided = (replicas: number[], every: number) => (_caller: string, s: string, replica: number, t: number) =>
  s === "payments" && replicas.includes(replica) && t >= 2000 && t < 8000 && t % every >= 30;

const target0 = { service: "payments", replica: 0 };

describe("slow_replica_share", () => {
  it("passes when the slowed replica gets a small share of the tries while the fault is on", () => {
    const sc = topology([delay("payments-0-slow", [0])]);
    const r = evaluateProperty(check({ target: target0, max: 0.1 }), contextOf(sc, simulate(sc, { behave: slow("payments-0-slow", [0]), out: avoided([0], 500) })));
    expect(r.status).toBe("passed");
    expect(r.unit).toBe("fraction");
    expect(r.threshold).toBe(0.1);
    expect(r.window).toBe("fault:payments-0-slow");
    expect(r.observed!).toBeGreaterThan(0);
    expect(r.observed!).toBeLessThan(0.05);
    // The delay fault on the target is found when not named; the even share is shown beside it.
    expect(r.evidence).toMatchObject({ fault: "payments-0-slow", slowed: ["payments-0"], fairShare: 0.333333, loadBalancer: "peak-ewma", tries: 600 });
    expect(r.evidence.callers).toEqual([expect.objectContaining({ caller: "front-0", tries: 600 })]);
    expect(r.evidence.summary).toMatch(/^payments-0 received \d+(\.\d+)?% of the tries to payments while fault payments-0-slow was on \(6 s\)/);
  });

  it("fails with round-robin's even share", () => {
    const sc = topology([delay("payments-0-slow", [0])]);
    const r = evaluateProperty(check({ target: target0, max: 0.1 }), contextOf(sc, simulate(sc, { behave: slow("payments-0-slow", [0]) })));
    expect(r.status).toBe("failed");
    expect(r.observed).toBeCloseTo(1 / 3, 2);
    expect(r.evidence.byReplica).toEqual({ "payments-0": 200, "payments-1": 200, "payments-2": 200 });
  });

  it("takes the slowed replicas from the fault when the target is the service", () => {
    const sc = topology([delay("two-slow", [0, 1])]);
    const r = evaluateProperty(check({ target: { service: "payments", replica: null }, max: 0.5 }), contextOf(sc, simulate(sc, { behave: slow("two-slow", [0, 1]) })));
    expect(r.evidence.slowed).toEqual(["payments-0", "payments-1"]);
    expect(r.observed).toBeCloseTo(2 / 3, 2);
    expect(r.status).toBe("failed");
  });

  it("judges a replica with no fault on it over the whole load, and depends on every fault", () => {
    const sc = topology([]);
    const r = evaluateProperty(check({ target: target0, max: 0.4 }), contextOf(sc, simulate(sc)));
    expect(r.status).toBe("passed");
    expect(r.evidence).toMatchObject({ fault: null, tries: 1000, span: { start: 0, end: 10_000 } });
    expect(r.window).toBeUndefined();
  });

  it("cannot judge a service with no slowed replica, a fault slowing them all, or an unknown fault", () => {
    const none = topology([]);
    const a = evaluateProperty(check({ target: { service: "payments", replica: null }, max: 0.1 }), contextOf(none, simulate(none, { times: [0] })));
    expect(a).toMatchObject({ status: "error", reason: 'no delay fault slows a replica of payments: name the slow replica ("payments[0]") or a fault' });
    const all = topology([delay("all-slow", [0, 1, 2])]);
    const b = evaluateProperty(check({ target: { service: "payments", replica: null }, max: 0.1 }), contextOf(all, simulate(all, { times: [0] })));
    expect(b.status).toBe("error");
    expect(b.reason).toMatch(/^fault all-slow slows every replica of payments/);
    const c = evaluateProperty(check({ target: target0, fault: "nope", max: 0.1 }), contextOf(none, simulate(none, { times: [0] })));
    expect(c).toMatchObject({ status: "error", reason: 'fault "nope" is not one of the run\'s faults' });
  });

  it("is inconclusive with too few tries to resolve max", () => {
    expect(minimumTries(0.1)).toBe(100);
    expect(minimumTries(0.01)).toBe(1000);
    expect(minimumTries(0.9)).toBe(20);
    const sc = topology([delay("payments-0-slow", [0])]);
    const r = evaluateProperty(check({ target: target0, max: 0.01 }), contextOf(sc, simulate(sc, { behave: slow("payments-0-slow", [0]) })));
    expect(r.status).toBe("inconclusive");
    expect(r.reason).toBe("a share against max 1% needs at least 1000 tries to payments; it had 600 while fault payments-0-slow was on (6 s)");
  });

  it("counts the replicas' inbound logs when the data plane logs no tries", () => {
    const sc = topology([delay("payments-0-slow", [0])]);
    const run = simulate(sc, { behave: slow("payments-0-slow", [0]), out: avoided([0], 500) });
    const r = evaluateProperty(check({ target: target0, max: 0.1 }), contextOf(sc, { ...run, events: [] }));
    expect(r.status).toBe("passed");
    expect(r.evidence.tries).toBe(600);
    expect(r.evidence.source).toBe("the replicas' inbound access logs (health checks excluded)");
  });
});
