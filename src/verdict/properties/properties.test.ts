// Each property judged on simulated runs (fixtures.ts): the same data shapes as a real run, with
// the failure, the policy and the timing chosen, so every verdict and every inconclusive path can
// be pinned down without Docker. The Docker runs are in test/e2e/properties.test.ts.
import { describe, expect, it } from "vitest";
import { ClientRecorder } from "../../observe/client-recorder.js";
import { planWindows } from "../../plan/windows.js";
import type { PropertyCheck, ResolvedFault, ResolvedScenario } from "../../scenario/types.js";
import { evaluateChecks } from "../evaluate-checks.js";
import { abortFault, contextOf, landedFault, policy, scenario, service, simulate, slo, T0, type Behaviour } from "./fixtures.js";
import { evaluateProperty, propertyEvaluator } from "./index.js";
import { carriedTokens } from "./retry-budget.js";

const check = (property: string, params: Record<string, unknown>): PropertyCheck => ({
  kind: "property",
  name: property,
  property,
  params,
  location: { line: 1, col: 1 },
});

const abort = abortFault;

/** front → checkout → payments (3 replicas), 200 req/s for 10 s. */
function chain(over: Partial<ResolvedScenario> = {}): ResolvedScenario {
  return scenario({
    services: [service("front", ["checkout"]), service("checkout", ["payments"]), service("payments", [], 3)],
    load: { target: "front", rate: 200, model: "closed", arrivals: "constant", connections: 8, maxInFlight: 8, timeoutMs: 10_000, maxLagMs: 10, durationMs: 10_000, protocol: "http", requests: [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }], grpc: null },
    ...over,
  });
}

/** Every payments try fails with probability p (fault `name`) between from and to. */
const flaky =
  (p: number, from: number, to: number, name = "payments-abort", replicas?: number[]): Behaviour =>
  (s, replica, t, random) =>
    s === "payments" && t >= from && t < to && (!replicas || replicas.includes(replica)) && random() < p ? { status: 503, fault: name } : null;

describe("retry_amplification", () => {
  const sc = chain({ policies: { payments: policy({ attempts: 3 }) }, faults: [abort("payments-abort", "payments", 2000, 6000, [0, 1, 2])] });
  const ctx = contextOf(sc, simulate(sc, { behave: flaky(0.5, 2000, 8000) }));

  it("per edge: tries at the callee over requests from the caller, with the model and the series it came from", () => {
    const r = evaluateProperty(check("retry_amplification", { edge: { from: "checkout", to: "payments" }, fault: "payments-abort", max: 1.5 }), ctx);
    expect(r.status).toBe("failed");
    expect(r.unit).toBe("ratio");
    expect(r.threshold).toBe(1.5);
    expect(r.observed).toBeGreaterThan(1.65);
    expect(r.observed).toBeLessThan(1.85);
    expect(r.window).toBe("fault:payments-abort");
    expect(r.evidence).toMatchObject({ edge: { from: "checkout", to: "payments" }, span: { start: 2000, end: 8000 }, requests: 1200, model: { attempts: 3 } });
    const model = r.evidence.model as { expected: number; firstTryFailureRate: number };
    expect(Math.abs(model.expected - r.observed!)).toBeLessThan(0.08);
    expect(evaluateProperty(check("retry_amplification", { edge: { from: "checkout", to: "payments" }, fault: "payments-abort", max: 2 }), ctx).status).toBe("passed");
  });

  it("end to end: tries at every service per client request, and the product of the hops", () => {
    const r = evaluateProperty(check("retry_amplification", { max: 1.5, fault: "payments-abort" }), ctx);
    expect(r.status).toBe("failed");
    const services = r.evidence.services as { service: string; perClientRequest: number; hopProduct: number }[];
    const payments = services.find((s) => s.service === "payments")!;
    expect(payments.perClientRequest).toBeCloseTo(r.observed!, 6);
    expect(payments.hopProduct).toBeCloseTo(payments.perClientRequest, 1);
    expect(services.find((s) => s.service === "checkout")!.perClientRequest).toBeCloseTo(1, 2);
  });

  it("is inconclusive with too few requests to resolve the threshold", () => {
    const quiet = chain({ load: { ...chain().load, rate: 1 } });
    const r = evaluateProperty(check("retry_amplification", { edge: { from: "checkout", to: "payments" }, max: 1.5 }), contextOf(quiet, simulate(quiet)));
    expect(r.status).toBe("inconclusive");
    expect(r.reason).toMatch(/^an amplification threshold of 1.5 needs at least 20 requests to be resolved; checkout → payments carried 10 in the whole load/);
  });

  it("over a fault that did not land: inconclusive with the fault's reason, never passed", () => {
    const notLanded = { ...ctx, faults: [landedFault("payments-abort", 2000, 8000, { landed: false, landedReason: "fault payments-abort did not land: none of the 1200 requests … was affected" })] };
    for (const params of [{ edge: { from: "checkout", to: "payments" }, fault: "payments-abort", max: 2 }, { edge: { from: "checkout", to: "payments" }, max: 2 }]) {
      const r = evaluateProperty(check("retry_amplification", params), notLanded);
      expect(r.status).toBe("inconclusive");
      expect(r.reason).toMatch(/^fault payments-abort did not land/);
      expect(r.evidence.observedStatus).toBe("passed");
    }
  });
});

describe("retry_budget", () => {
  const budget = { ratio: 0.2, minPerSecond: 5, windowMs: 2000 };
  const sc = () =>
    chain({
      policies: { payments: policy({ retries: { attempts: 3, perTryTimeoutMs: null, retryOn: ["5xx"], budget } }) },
      faults: [abort("payments-abort", "payments", 2000, 6000, [0, 1, 2])],
    });

  it("fails when the retries in some 2 s window exceed ratio × requests + minPerSecond × window (plus the tolerance)", () => {
    const s = sc();
    const r = evaluateProperty(check("retry_budget", { edge: { from: "checkout", to: "payments" } }), contextOf(s, simulate(s, { behave: flaky(0.5, 2000, 8000) })));
    expect(r.status).toBe("failed");
    expect(r.unit).toBe("fraction");
    expect(r.evidence).toMatchObject({ budget, budgetSource: "the policy of payments", slidingWindowMs: 2000, stepMs: 100 });
    const worst = r.evidence.worstWindow as { retries: number; requests: number; bound: number; tolerance: number; pod: string };
    expect(worst.pod).toBe("checkout-0");
    // 400 requests in 2 s at p = 0.5: 0.75 retries each ≈ 300, against 0.2 × 400 + 5 × 2 = 90.
    expect(worst.retries).toBeGreaterThan(250);
    expect(worst.bound).toBeCloseTo(90, 0);
    expect(worst.tolerance).toBeCloseTo(0.2 * 90 + 2, 0);
    expect(r.observed).toBeCloseTo(worst.retries / worst.bound, 2);
  });

  it("passes when every window stays within its budget", () => {
    const s = sc();
    const r = evaluateProperty(check("retry_budget", { edge: { from: "checkout", to: "payments" } }), contextOf(s, simulate(s, { behave: flaky(0.1, 2000, 8000) })));
    expect(r.status).toBe("passed");
    expect(r.evidence.windowsOver).toBe(0);
    expect(r.evidence.windows).toBe(81); // (10 s − 2 s) / 100 ms + 1
  });

  it("judges a policy without a budget against the default (Linkerd's) budget, and says so", () => {
    const s = chain({ policies: { payments: policy({ attempts: 3 }) } });
    const r = evaluateProperty(check("retry_budget", { edge: { from: "checkout", to: "payments" } }), contextOf(s, simulate(s, { behave: flaky(0.5, 0, 10_000) })));
    expect(r.status).toBe("failed");
    expect(r.evidence.budget).toEqual({ ratio: 0.2, minPerSecond: 10, windowMs: 10_000 });
    expect(r.evidence.budgetSource).toMatch(/^payments's policy has no retry budget: judged against meshquake's default budget/);
  });
});

describe("ejection", () => {
  const sc = chain({ faults: [abort("payments-0-down", "payments", 2000, 4000)] });
  const ejectedAt = 2080;
  const run = simulate(sc, { behave: flaky(1, 2000, 6000, "payments-0-down", [0]), out: (_c, s, replica, t) => s === "payments" && replica === 0 && t >= ejectedAt && t < 7000 });
  const withEjection = (ejections: { at: number; until: number | null; by: string }[]) => {
    const ctx = contextOf(sc, run);
    return { ...ctx, replicas: ctx.replicas.map((r) => (r.service === "payments" && r.index === 0 ? { ...r, ejections } : r)) };
  };

  it("times the replica leaving every caller's rotation, and its coming back after the fault", () => {
    const r = evaluateProperty(check("ejection", { target: { service: "payments", replica: 0 }, withinMs: 500 }), withEjection([{ at: ejectedAt, until: 7000, by: "checkout-0" }]));
    expect(r).toMatchObject({ status: "passed", observed: 80, threshold: 500, unit: "ms" });
    const [view] = r.evidence.callers as { caller: string; leaveMs: number; requestsAfterLeaving: number; backAfterFaultEndMs: number; leftBy: string }[];
    expect(view).toMatchObject({ caller: "checkout-0", leaveMs: 80, requestsAfterLeaving: 0, backAfterFaultEndMs: 1000, leftBy: "ejection" });
    expect(r.evidence.fault).toBe("payments-0-down"); // found from the target when not named
  });

  it("fails when the replica never left rotation, or too late, or still got requests after leaving", () => {
    const never = evaluateProperty(check("ejection", { target: { service: "payments", replica: 0 }, withinMs: 500 }), withEjection([]));
    expect(never).toMatchObject({ status: "failed", observed: null });
    expect(never.evidence.summary).toMatch(/^checkout-0 never took payments-0 out/);
    const late = evaluateProperty(check("ejection", { target: { service: "payments", replica: 0 }, withinMs: 50 }), withEjection([{ at: ejectedAt, until: 7000, by: "checkout-0" }]));
    expect(late.status).toBe("failed");
    // The events say it was out from 2.05 s, but tries kept reaching it until 2.3 s (past the 100 ms grace).
    const leaky = simulate(sc, { behave: flaky(1, 2000, 6000, "payments-0-down", [0]), out: (_c, s, replica, t) => s === "payments" && replica === 0 && t >= 2300 && t < 7000 });
    const leakCtx = contextOf(sc, leaky);
    leakCtx.replicas = leakCtx.replicas.map((x) => (x.service === "payments" && x.index === 0 ? { ...x, ejections: [{ at: 2050, until: 7000, by: "checkout-0" }] } : x));
    const leak = evaluateProperty(check("ejection", { target: { service: "payments", replica: 0 }, withinMs: 500 }), leakCtx);
    expect(leak.status).toBe("failed");
    expect((leak.evidence.callers as { requestsAfterLeaving: number }[])[0]!.requestsAfterLeaving).toBeGreaterThan(0);
  });

  it("is inconclusive when no caller sent the replica anything while the fault was on", () => {
    const idle = chain({ faults: [abort("payments-0-down", "payments", 2000, 4000)] });
    const ctx = contextOf(idle, simulate(idle, { times: [100, 200, 9000] }));
    const r = evaluateProperty(check("ejection", { target: { service: "payments", replica: 0 }, withinMs: 500 }), ctx);
    expect(r.status).toBe("inconclusive");
    expect(r.reason).toBe("no caller sent payments[0] a request while fault payments-0-down was on (2000–6000 ms)");
  });
});

describe("failover", () => {
  const sc = chain({ load: { ...chain().load, rate: 400 }, faults: [abort("payments-0-down", "payments", 2000, 4000)] });
  const run = (outFrom: number | null) =>
    simulate(sc, { behave: flaky(1, 2000, 6000, "payments-0-down", [0]), out: (_c, s, replica, t) => outFrom !== null && s === "payments" && replica === 0 && t >= outFrom });

  it("times the client's success rate back at min on the 100 ms series", () => {
    const r = evaluateProperty(check("failover", { fault: "payments-0-down", withinMs: 1000, min: 0.95 }), contextOf(sc, run(2300)));
    expect(r.status).toBe("passed");
    expect(r.observed).toBeGreaterThanOrEqual(200);
    expect(r.observed).toBeLessThanOrEqual(400);
    expect(r.evidence).toMatchObject({ slos: ["success rate >= 95%"], minimumRequestsPerWindow: 20, stepMs: 100 });
    expect((r.evidence.series as { points: unknown[] }).points.length).toBeGreaterThan(10);
    expect(evaluateProperty(check("failover", { fault: "payments-0-down", withinMs: 200, min: 0.95 }), contextOf(sc, run(2300))).status).toBe("failed");
  });

  it("fails, with no time, when the success rate never comes back during the fault", () => {
    const r = evaluateProperty(check("failover", { fault: "payments-0-down", withinMs: 1000, min: 0.95 }), contextOf(sc, run(null)));
    expect(r).toMatchObject({ status: "failed", observed: null });
    expect(r.evidence.summary).toMatch(/never, up to 6000 ms/);
  });

  it("is inconclusive when the rate cannot resolve min within `within`", () => {
    const slow = chain({ load: { ...chain().load, rate: 20 }, faults: [abort("payments-0-down", "payments", 2000, 4000)] });
    const r = evaluateProperty(check("failover", { fault: "payments-0-down", withinMs: 1000, min: 0.99 }), contextOf(slow, simulate(slow)));
    expect(r.status).toBe("inconclusive");
    expect(r.reason).toBe("at 20 req/s a window resolving success rate >= 99% needs 100 requests (5 s), longer than the 4 s there is to judge");
    const r2 = evaluateProperty(check("failover", { fault: "payments-0-down", withinMs: 300, min: 0.9 }), contextOf(slow, simulate(slow)));
    expect(r2.reason).toBe(
      "at 20 req/s a window resolving success rate >= 90% needs 10 requests (500 ms): longer than within 300 ms, so the time cannot be told to that precision; raise the load's rate",
    );
  });
});

describe("recovery", () => {
  const sc = chain({
    load: { ...chain().load, rate: 400 },
    faults: [abort("outage", "payments", 4000, 1000, [0, 1, 2])],
    checks: [{ kind: "slo", name: "p99", expression: slo("p(99) < 50ms"), window: { kind: "whole" }, location: { line: 1, col: 1 } }],
  });

  it("times the SLOs holding again after the fault's end", () => {
    // Every replica ejected during the outage and kept out until 7 s: no healthy replica for 2 s after it.
    const run = simulate(sc, { behave: flaky(1, 4000, 5000, "outage"), out: (_c, s, _r, t) => s === "payments" && t >= 4050 && t < 7000 });
    const slow = evaluateProperty(check("recovery", { fault: "outage", withinMs: 1000, slos: [slo("error_rate < 1%")] }), contextOf(sc, run));
    expect(slow.status).toBe("failed");
    expect(slow.observed).toBeGreaterThanOrEqual(1900);
    expect(slow.observed).toBeLessThanOrEqual(2100);
    const ok = evaluateProperty(check("recovery", { fault: "outage", withinMs: 3000, slos: [slo("error_rate < 1%")] }), contextOf(sc, run));
    expect(ok.status).toBe("passed");
  });

  it("judges percentile SLOs exactly from counts, and uses the scenario's SLOs when none are named", () => {
    const delay: Behaviour = (s, _r, t) => (s === "payments" && t >= 4000 && t < 5500 ? { status: 200, delayMs: 120, fault: "outage" } : null);
    const r = evaluateProperty(check("recovery", { fault: "outage", withinMs: 1000 }), contextOf(sc, simulate(sc, { behave: delay })));
    expect(r.evidence.slos).toEqual(["p(99) < 50ms"]);
    expect(r.status).toBe("passed");
    expect(r.observed).toBeGreaterThanOrEqual(400);
    expect(r.observed).toBeLessThanOrEqual(600);
  });
});

describe("timeout_bound", () => {
  const sc = (timeoutMs: number) =>
    chain({
      policies: { payments: policy({ timeoutMs }) },
      faults: [{ ...abort("slow", "payments", 2000, 4000, [0, 1, 2]), kind: "delay", delay: { minMs: 1000, maxMs: 1000 } } as ResolvedFault],
      checks: [],
    });
  const slowPayments: Behaviour = (s, _r, t) => (s === "payments" && t >= 2000 && t < 6000 ? { status: 200, delayMs: 1000, fault: "slow" } : null);

  it("on an edge: every request within the callee policy's timeout plus 150 ms + 10%", () => {
    const s = sc(200);
    const r = evaluateProperty(check("timeout_bound", { edge: { from: "checkout", to: "payments" } }), contextOf(s, simulate(s, { behave: slowPayments })));
    expect(r).toMatchObject({ status: "passed", observed: 200, threshold: 370, unit: "ms" });
    expect(r.evidence).toMatchObject({ timeoutMs: 200, slackMs: 170, overLimit: 0, timeoutSource: "the policy of payments" });
  });

  it("at the client: against `within`, counting every request over it", () => {
    const checkWithin = { ...check("timeout_bound", { withinMs: 600 }) };
    const fast = { ...sc(200), checks: [checkWithin] };
    expect(evaluateProperty(checkWithin, contextOf(fast, simulate(fast, { behave: slowPayments }))).status).toBe("passed");
    const none = { ...sc(30_000), checks: [checkWithin] };
    const r = evaluateProperty(checkWithin, contextOf(none, simulate(none, { behave: slowPayments })));
    expect(r.status).toBe("failed");
    expect(r.evidence).toMatchObject({ boundMs: 600, slackMs: 210, limitMs: 810, overLimit: 800 });
    expect(r.observed).toBeGreaterThan(1000);
  });
});

describe("isolation", () => {
  const sc = (over: Partial<ResolvedScenario> = {}) =>
    scenario({
      services: [service("front", ["catalog", "checkout"]), service("catalog"), service("checkout", ["payments"]), service("payments")],
      load: { target: "front", rate: 100, model: "closed", arrivals: "constant", connections: 8, maxInFlight: 8, timeoutMs: 10_000, maxLagMs: 10, durationMs: 10_000, protocol: "http", requests: [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }], grpc: null },
      faults: [abort("payments-down", "payments", 3000, 5000)],
      ...over,
    });
  const down = flaky(1, 3000, 8000, "payments-down");

  it("a route that does not depend on the failing service keeps its SLOs and its traffic", () => {
    const s = sc();
    const r = evaluateProperty(check("isolation", { target: { service: "catalog", replica: null }, fault: "payments-down", slos: [slo("error_rate < 1%"), slo("p(99) < 50ms")] }), contextOf(s, simulate(s, { behave: down })));
    expect(r).toMatchObject({ status: "passed", observed: 1, threshold: 0.8, unit: "fraction" });
    expect(r.evidence).toMatchObject({ route: "service catalog", during: { requests: 500, errors: 0 }, baseline: { requests: 300 } });
  });

  it("fails when the route is starved of traffic while the fault is on", () => {
    const s = sc();
    const times = [...Array.from({ length: 300 }, (_, i) => i * 10), ...Array.from({ length: 100 }, (_, i) => 3000 + i * 50), ...Array.from({ length: 200 }, (_, i) => 8000 + i * 10)];
    const r = evaluateProperty(check("isolation", { target: { service: "catalog", replica: null }, fault: "payments-down" }), contextOf(s, simulate(s, { behave: down, times })));
    expect(r.status).toBe("failed");
    expect(r.observed).toBeCloseTo(0.2, 2);
    expect(r.evidence.summary).toMatch(/starved/);
  });

  it("will not judge a route that depends on the failing service", () => {
    const s = sc();
    const r = evaluateProperty(check("isolation", { target: { service: "checkout", replica: null }, fault: "payments-down" }), contextOf(s, simulate(s, { behave: down })));
    expect(r.status).toBe("error");
    expect(r.reason).toBe("checkout depends on payments (checkout → payments), so it cannot be isolated from fault payments-down; isolation judges a route that does not");
  });

  it("by path: the client's requests to one path of the mix", () => {
    const s = sc({
      load: {
        target: "front",
        rate: 100,
        model: "closed",
        arrivals: "constant",
        connections: 8,
        maxInFlight: 8,
        timeoutMs: 10_000,
        maxLagMs: 10,
        durationMs: 10_000,
        protocol: "http",
        requests: ["/item", "/checkout"].map((path) => ({ method: "GET", path, headers: {}, body: null, weight: 1 })),
        grpc: null,
      },
    });
    const windows = planWindows(s);
    const recorder = new ClientRecorder(windows, { paths: ["/item", "/checkout"] });
    for (let i = 0; i < 1000; i++) {
      const t = i * 10;
      const path = i % 2 ? "/checkout" : "/item";
      const failing = path === "/checkout" && t >= 3000 && t < 8000;
      recorder.record({ startUs: t * 1000, latencyUs: 5000, status: failing ? 502 : 200, path, id: `c-${i}` });
    }
    const ctx = { ...contextOf(s, { entries: [], events: [], samples: [] }), client: recorder.stats() };
    const item = evaluateProperty(check("isolation", { path: "/item", fault: "payments-down" }), ctx);
    expect(item).toMatchObject({ status: "passed", observed: 1 });
    const cart = evaluateProperty(check("isolation", { path: "/checkout", fault: "payments-down" }), ctx);
    expect(cart.status).toBe("failed");
    const unknown = evaluateProperty(check("isolation", { path: "/nope", fault: "payments-down" }), ctx);
    expect(unknown.reason).toBe("the client kept no statistics for path /nope; paths: /item, /checkout");
  });
});

describe("evaluateChecks with the property evaluator", () => {
  it("judges property checks in scenario order beside the SLO checks, and never throws", () => {
    const sc = chain({ policies: { payments: policy({ attempts: 3 }) } });
    const ctx = contextOf(sc, simulate(sc));
    const checks = [
      { kind: "slo" as const, name: "e", expression: slo("error_rate < 1%"), window: { kind: "whole" as const }, location: { line: 1, col: 1 } },
      check("retry_amplification", { edge: { from: "checkout", to: "payments" }, max: 1.1 }),
      check("no_such_property", {}),
      check("ejection", { target: { service: "payments", replica: 0 }, withinMs: 100 }),
    ];
    const results = evaluateChecks(checks, ctx.client, ctx.windows, propertyEvaluator(ctx));
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ["e", "passed"],
      ["retry_amplification", "passed"],
      ["no_such_property", "error"],
      ["ejection", "error"],
    ]);
    expect(results[3]!.reason).toBe('no fault acts on payments[0]: name one with "fault"');
    expect(T0).toBeGreaterThan(0);
  });
});

describe("retry_budget's carried tokens (Linkerd's expiring bucket)", () => {
  const budget = { ratio: 0.2, minPerSecond: 5, windowMs: 2000 };
  it("a window may spend what the window before it deposited and left unspent, and no more", () => {
    // 10 requests per 100 ms slot: each slot deposits 0.2 × 10 + 5 × 0.1 = 2.5 tokens; 2 s = 20 slots.
    const requests = new Array(60).fill(10);
    const quiet = carriedTokens(requests, new Array(60).fill(0), budget, 20);
    // At the start of slot 20, slots 1-19 are alive (slot 0's expired): 19 × 2.5, unspent.
    expect(quiet[20]).toBeCloseTo(47.5, 9);
    expect(quiet[40]).toBeCloseTo(47.5, 9); // tokens older than one window expire
    // Spending every deposit as it comes leaves nothing to carry.
    expect(carriedTokens(requests, new Array(60).fill(2.5), budget, 20)[40]).toBeCloseTo(0, 9);
    // A burst of 30 at slot 20 spends the oldest first (slots 1-12): slots 13-20 are left.
    const retries = new Array(60).fill(0);
    retries[20] = 30;
    expect(carriedTokens(requests, retries, budget, 20)[21]).toBeCloseTo(8 * 2.5, 9);
  });
});
