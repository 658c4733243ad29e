// blast_radius on simulated runs (fixtures.ts): a 90/10 canary whose v2 replica aborts while a
// fault is on; attribution (run by contextOf, as judge-run does) blames each failed request on a pod.
import { describe, expect, it } from "vitest";
import type { PropertyCheck, ResolvedFault, ResolvedScenario } from "../../scenario/types.js";
import { abortFault, canary, contextOf, scenario, service, shift, simulate, type Behaviour } from "./fixtures.js";
import { evaluateProperty } from "./index.js";

const check = (params: Record<string, unknown>): PropertyCheck => ({
  kind: "property",
  name: "blast_radius payments v2",
  property: "blast_radius",
  params: { target: { service: "payments", replica: null }, version: "v2", ...params },
  location: { line: 1, col: 1 },
});

const abort = (name: string, replicas: number[]): ResolvedFault => abortFault(name, "payments", 5000, 10_000, replicas);

/** The replicas answer 503 from the fault while it is on. */
const aborting = (name: string, replicas: number[], from = 5000, to = 15_000): Behaviour => (s, replica, t) =>
  s === "payments" && replicas.includes(replica) && t >= from && t < to ? { status: 503, fault: name } : null;

const judge = (sc: ResolvedScenario, params: Record<string, unknown>, behave: Behaviour) => evaluateProperty(check(params), contextOf(sc, simulate(sc, { behave })));

describe("blast_radius", () => {
  it("counts the client requests that failed because of the version while its fault was on", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [abort("v2-abort", [3])]);
    const r = judge(sc, { max: 0.13 }, aborting("v2-abort", [3]));
    expect(r).toMatchObject({ status: "passed", unit: "fraction", threshold: 0.13, window: "fault:v2-abort" });
    expect(r.observed!).toBeGreaterThan(0.07);
    expect(r.observed!).toBeLessThan(0.13);
    const e = r.evidence as { requests: number; failed: number; blamedOnVersion: number; byPod: unknown; byCause: unknown };
    expect(r.evidence).toMatchObject({ version: "v2", pods: ["payments-3"], fault: "v2-abort", span: { start: 5000, end: 15_000 }, requests: 1000, notExamined: 0 });
    expect(e.blamedOnVersion).toBe(e.failed);
    expect(e.byPod).toEqual({ "payments-3": e.failed });
    expect(e.byCause).toEqual({ "injected-fault:v2-abort": e.failed });
    expect(r.evidence.summary).toMatch(/^\d+ of 1000 client requests \(\d+(\.\d+)?%\) failed because of payments v2 while fault v2-abort was on \(10 s\); \d+ failed in all$/);
  });

  it("fails when the version's share of failed requests is over max", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [abort("v2-abort", [3])]);
    expect(judge(sc, { max: 0.05 }, aborting("v2-abort", [3])).status).toBe("failed");
    // After a shift to 50/50 with the fault still on, about half the users see it.
    const shifted = canary({ v1: 0.9, v2: 0.1 }, [abort("v2-abort", [3]), shift("to-half", { v1: 0.5, v2: 0.5 }, 5000, 10_000)]);
    const r = judge(shifted, { max: 0.13 }, aborting("v2-abort", [3]));
    expect(r.status).toBe("failed");
    expect(r.observed!).toBeGreaterThan(0.45);
    expect(r.observed!).toBeLessThan(0.55);
  });

  it("passes near 0 when retries take the failed tries to another replica", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [abort("v2-abort", [3])], 3);
    const r = judge(sc, { max: 0.01 }, aborting("v2-abort", [3]));
    expect(r.status).toBe("passed");
    expect(r.observed!).toBeLessThan(0.005);
  });

  it("does not blame the version for failures of another version", () => {
    const sc = canary({ v1: 0.5, v2: 0.5 }, [abort("v1-abort", [0, 1, 2])]);
    const r = judge(sc, { max: 0.01 }, aborting("v1-abort", [0, 1, 2]));
    // No fault acts on v2: the first fault on the target is judged.
    expect(r.evidence).toMatchObject({ fault: "v1-abort", blamedOnVersion: 0, notExamined: 0 });
    expect(r.evidence.failed as number).toBeGreaterThan(400);
    expect(r.status).toBe("passed");
  });

  it("judges a named fault or shift, and the whole load without one", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [shift("to-half", { v1: 0.5, v2: 0.5 }, 10_000, 5000)]);
    const named = judge(sc, { fault: "to-half", max: 0.6 }, aborting("x", [3], 0, 20_000));
    expect(named.evidence).toMatchObject({ fault: "to-half", span: { start: 10_000, end: 15_000 }, requests: 500 });
    expect(named.observed!).toBeGreaterThan(0.4);
    const whole = judge(sc, { max: 0.6 }, aborting("x", [3], 0, 20_000));
    expect(whole.evidence).toMatchObject({ fault: null, span: { start: 0, end: 20_000, source: "the whole load" }, requests: 2000 });
    expect(whole.window).toBeUndefined();
  });

  it("is inconclusive with too few requests, or when failures it could not trace could put it over max", () => {
    const sc = canary({ v1: 0.9, v2: 0.1 }, [abort("v2-abort", [3])]);
    const few = judge(sc, { max: 0.001 }, aborting("v2-abort", [3]));
    expect(few).toMatchObject({ status: "inconclusive", reason: "a share against max 0.1% needs at least 10000 client requests; there were 1000 while fault v2-abort was on (10 s)" });
    const run = simulate(sc, { behave: aborting("v2-abort", [3]) });
    const ctx = contextOf(sc, run);
    const kept = ctx.blamed!.slice(0, 20);
    const r = evaluateProperty(check({ max: 0.05 }), { ...ctx, blamed: kept });
    expect(r.status).toBe("inconclusive");
    expect(r.reason).toMatch(/^\d+ failed requests while fault v2-abort was on \(10 s\) were counted but not traced \(attribution keeps the ids of the first failures only\); blamed on v2 they would put the share over 5%$/);
  });

  it("cannot judge without versions, an unknown version or fault, or without attribution", () => {
    const plain = scenario({ services: [service("front", ["payments"]), service("payments", [], 2)] });
    const once = (sc: ResolvedScenario, params: Record<string, unknown>, extra = {}) => evaluateProperty(check(params), contextOf(sc, simulate(sc, { times: [0] }), extra));
    expect(once(plain, { max: 0.1 })).toMatchObject({ status: "error", reason: "payments has no versions (services.payments.versions): there is no version to blame" });
    const sc = canary({ v1: 0.9, v2: 0.1 });
    expect(once(sc, { version: "v3", max: 0.1 })).toMatchObject({ status: "error", reason: 'payments has no version "v3"; its versions: v1, v2' });
    expect(once(sc, { fault: "nope", max: 0.1 })).toMatchObject({ status: "error", reason: 'fault "nope" is not one of the run\'s faults' });
    expect(once(sc, { max: 0.1 }, { blamed: null }).reason).toBe("failure attribution did not run (see the run's errors), so no failure can be put down to a version");
  });
});
