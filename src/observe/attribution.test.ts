import { describe, expect, it } from "vitest";
import type { AccessLogEntry } from "../dataplane/types.js";
import { policy, scenario, service, simulate, T0, type Behaviour } from "../verdict/properties/fixtures.js";
import { attributeFailures, type AttributionFault, type AttributionInput } from "./attribution.js";
import { isClientError } from "./client-recorder.js";

const chain = (policies = {}) =>
  scenario({
    services: [service("front", ["checkout"]), service("checkout", ["payments"]), service("payments", [], 2)],
    policies,
    load: { target: "front", rate: 100, model: "closed", arrivals: "constant", connections: 8, maxInFlight: 8, timeoutMs: 10_000, maxLagMs: 10, durationMs: 5000, protocol: "http", requests: [], grpc: null },
  });

function attribute(
  sc: ReturnType<typeof chain>,
  behave: Behaviour,
  extra: { faults?: AttributionFault[]; out?: (c: string, s: string, r: number, t: number) => boolean; traceBatch?: number; onExplained?: AttributionInput["onExplained"] } = {},
) {
  const run = simulate(sc, { behave, out: extra.out });
  const failed = run.samples
    .filter((s) => isClientError(s.status))
    .map((s) => ({ id: s.id ?? null, startMs: s.startUs / 1000, latencyUs: s.latencyUs, status: s.status, path: s.path ?? null }));
  return attributeFailures({ scenario: sc, failed: { requests: failed, dropped: 0 }, entries: run.entries, events: run.events, loadStartEpochMs: T0, faults: extra.faults ?? [], traceBatch: extra.traceBatch, onExplained: extra.onExplained });
}

/** The pods failed requests were blamed on, with how many each. */
function blamedPods(sc: ReturnType<typeof chain>, behave: Behaviour, out?: (c: string, s: string, r: number, t: number) => boolean): Record<string, number> {
  const pods: Record<string, number> = {};
  const onExplained: AttributionInput["onExplained"] = (_f, { pod }) => {
    pods[String(pod)] = (pods[String(pod)] ?? 0) + 1;
  };
  attribute(sc, behave, { out, onExplained });
  return pods;
}

const abortHalf: Behaviour = (s, _r, _t, random) => (s === "payments" && random() < 0.5 ? { status: 503, fault: "payments-abort" } : null);

describe("attributeFailures", () => {
  it("puts each failed request down to the injected fault on the edge where it failed, hop by hop", () => {
    const a = attribute(chain(), abortHalf);
    expect(a.failed).toBeGreaterThan(200);
    expect(a).toMatchObject({ examined: a.failed, traced: a.failed, notKept: 0, byCause: { "injected-fault": a.failed }, byFault: { "payments-abort": a.failed } });
    expect(a.byEdge).toEqual([{ from: "checkout", to: "payments", failed: a.failed, byCause: { "injected-fault": a.failed } }]);
    expect(a.examples[0]).toMatchObject({ cause: "injected-fault", edge: { from: "checkout", to: "payments" }, fault: "payments-abort", hops: ["front-0", "checkout-0"] });
  });

  it("traces failed requests a batch at a time (a pass over the log each) with the same result as all at once", () => {
    const sc = chain({ payments: policy({ attempts: 2 }) });
    const all = attribute(sc, abortHalf);
    expect(all.failed).toBeGreaterThan(20);
    expect(attribute(sc, abortHalf, { traceBatch: 7 })).toEqual(all);
  });

  it("names retries exhausted, and what the last try hit", () => {
    const a = attribute(chain({ payments: policy({ attempts: 2 }) }), abortHalf);
    expect(Object.keys(a.byCause)).toEqual(["retries-exhausted"]);
    expect(a.byLastTry).toEqual({ "injected-fault:payments-abort": a.failed });
    expect(a.examples[0]!.detail).toBe("checkout-0 → payments: all 2 tries failed; the last try: injected-fault:payments-abort");
  });

  it("finds the app that failed by itself, below a hop that only passed it on", () => {
    const sc = chain();
    sc.services[2] = { ...sc.services[2]!, errorRate: 0.3 };
    const a = attribute(sc, () => null);
    expect(a.byCause).toEqual({ "app-error": a.failed });
    expect(a.examples[0]!.detail).toMatch(/^payments-\d's app answered 500 by itself$/);
    expect(a.examples[0]!.hops).toHaveLength(3);
  });

  it("names a timeout, with the fault found on the request's path", () => {
    const slow: Behaviour = (s) => (s === "payments" ? { status: 200, delayMs: 500, fault: "slow-payments" } : null);
    const a = attribute(chain({ payments: policy({ timeoutMs: 200 }) }), slow);
    expect(a.byCause).toEqual({ "overall-timeout": a.failed });
    expect(a.byFault).toEqual({ "slow-payments": a.failed });
  });

  it("blames each failed request on the callee pod at the deepest hop that failed, or on none when a sidecar decided alone", () => {
    const abortOne: Behaviour = (s, replica, _t, random) => (s === "payments" && replica === 1 && random() < 0.5 ? { status: 503, fault: "payments-1-abort" } : null);
    const once = attribute(chain(), abortOne);
    expect(blamedPods(chain(), abortOne)).toEqual({ "payments-1": once.failed });
    // All tries failed: the last one's replica (round-robin over two: the retry always goes to payments-1).
    const abortAll: Behaviour = (s) => (s === "payments" ? { status: 503, fault: "payments-abort" } : null);
    expect(blamedPods(chain({ payments: policy({ attempts: 2 }) }), abortAll)).toEqual({ "payments-1": 500 });
    // An app failing by itself, two hops down.
    const sc = chain();
    sc.services[2] = { ...sc.services[2]!, errorRate: 0.3 };
    expect(Object.keys(blamedPods(sc, () => null)).sort()).toEqual(["payments-0", "payments-1"]);
    expect(blamedPods(chain(), () => null, (_c, s) => s === "payments")).toEqual({ null: 500 });
    // Examples in the report are unchanged: the blamed pod is not one of their fields.
    expect(once.examples[0]).not.toHaveProperty("pod");
  });

  it("names no healthy replica when every replica was out of rotation", () => {
    const a = attribute(chain(), () => null, { out: (_c, s) => s === "payments" });
    expect(a.byCause).toEqual({ "no-healthy-replica": a.failed });
  });

  it("names a partition or a crash by time and place when the tries could not connect", () => {
    const ts = T0 + 1000;
    const entries: AccessLogEntry[] = [
      { ts, pod: "front-0", direction: "inbound", route: "front", from: null, upstream: null, status: 502, durationMs: 3, retries: 0, termination: "----", fault: null, traceId: "c-1" },
      { ts: ts + 1, pod: "front-0", direction: "outbound", route: "checkout", from: "front", upstream: "checkout-0", status: 503, durationMs: 1, retries: 0, termination: "SC--", fault: null, requestId: "front-0.1", cause: "connect-failure", maxAttempts: 1, traceId: "c-1" },
    ];
    const base = {
      scenario: chain(),
      failed: { requests: [{ id: "c-1", startMs: 1000, latencyUs: 3000, status: 502, path: "/" }], dropped: 0 },
      entries,
      events: [],
      loadStartEpochMs: T0,
    };
    const partition: AttributionFault = { name: "split", kind: "partition", pods: ["front-0"], sides: [["front-0"], ["checkout-0"]], startMs: 500, endMs: 2000 };
    expect(attributeFailures({ ...base, faults: [partition] }).byCause).toEqual({ partition: 1 });
    const crash: AttributionFault = { name: "kill-checkout", kind: "kill", pods: ["checkout-0"], startMs: 500, endMs: 2000 };
    expect(attributeFailures({ ...base, faults: [crash] }).examples[0]).toMatchObject({ cause: "crash", fault: "kill-checkout" });
    expect(attributeFailures({ ...base, faults: [] }).byCause).toEqual({ "connect-failure": 1 });
  });

  it("says what the client saw when no sidecar logged the request, and counts ids it did not keep", () => {
    const a = attributeFailures({
      scenario: chain(),
      failed: {
        requests: [
          { id: "c-9", startMs: 10, latencyUs: 10_000_000, status: "timeout", path: "/" },
          { id: "c-8", startMs: 10, latencyUs: 100, status: "error", path: "/" },
        ],
        dropped: 5,
      },
      entries: [],
      events: [],
      loadStartEpochMs: T0,
      faults: [],
    });
    expect(a).toMatchObject({ failed: 7, examined: 2, notKept: 5, traced: 0, byCause: { "client-connection-error": 1, "client-timeout": 1 } });
    expect(a.byEdge).toEqual([{ from: "client", to: "front", failed: 2, byCause: { "client-timeout": 1, "client-connection-error": 1 } }]);
    expect(a.notes[0]).toMatch(/^5 more failed requests were counted but their ids not kept/);
    expect(a.notes[1]).toMatch(/no sidecar log line carries an x-request-id/);
  });
});
