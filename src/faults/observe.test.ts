import { describe, expect, it } from "vitest";
import type { AccessLogEntry } from "../dataplane/types.js";
import type { ResolvedFault } from "../scenario/types.js";
import { observeFault } from "./observe.js";
import type { FaultTiming } from "./scheduler.js";

const T = 1_700_000_000_000;
const entry = (e: Partial<AccessLogEntry>): AccessLogEntry => ({
  ts: T,
  pod: "payments-0",
  direction: "inbound",
  route: "payments",
  from: "checkout",
  upstream: null,
  status: 200,
  durationMs: 2,
  retries: 0,
  termination: "----",
  fault: null,
  fromReplica: 0,
  ...e,
});
const timing = (over: Partial<FaultTiming> = {}): FaultTiming => ({
  name: "f",
  applySentAt: T + 1000,
  appliedAt: T + 1002,
  revertSentAt: T + 2000,
  revertedAt: T + 2001,
  error: null,
  startEpochMs: T + 1000,
  untilEpochMs: T + 2000,
  ...over,
});
const base = { target: "payments", replicas: [0], from: null, match: null, probability: 1, atMs: 1000, durationMs: 1000, location: { line: 1, col: 1 } };
const abort = (over: Partial<ResolvedFault> = {}) => ({ ...base, name: "f", kind: "abort", status: 503, probability: 0.5, ...over }) as ResolvedFault;
const replicas = (s: string) => (s === "payments" ? 3 : 1);

describe("observeFault", () => {
  it("tagged: share of the eligible requests in [applied, revert sent), activation from the apply sent", () => {
    const entries = [
      entry({ ts: T + 999, fault: null }), // before
      entry({ ts: T + 1001, fault: "f" }), // between sent and confirmed: activation only
      entry({ ts: T + 1100, fault: "f" }),
      entry({ ts: T + 1200 }),
      entry({ ts: T + 1300, from: "frontend", fault: "f" }),
      entry({ ts: T + 1400, pod: "payments-1", fault: "f" }), // not a target pod
      entry({ ts: T + 1500, faults: ["d", "f"], fault: "f" }),
      entry({ ts: T + 2000, fault: "f" }), // revert sent: outside
    ];
    expect(observeFault(abort(), timing(), entries, replicas)).toMatchObject({
      observedBy: "tagged",
      eligible: 4,
      affected: 3,
      observedPercent: 0.75,
      activationMs: 1,
      source: "log",
    });
    // An edge fault counts only its caller's requests.
    expect(observeFault(abort({ from: "checkout" }), timing(), entries, replicas)).toMatchObject({ eligible: 3, affected: 2 });
  });

  it("a fault set ahead counts activation from its start", () => {
    const t = timing({ applySentAt: T + 700, armedAt: T + 703, appliedAt: T + 1000, startEpochMs: T + 1000 });
    expect(observeFault(abort(), t, [entry({ ts: T + 1004, fault: "f" })], replicas).activationMs).toBe(4);
  });

  it("a header match reads the proxy's counters, or says the share cannot be measured", () => {
    const f = abort({ match: { header: "x-user", value: "a" } });
    const entries = [entry({ ts: T + 1100, fault: "f" }), entry({ ts: T + 1200 })];
    expect(observeFault(f, timing({ counters: { seen: 40, hits: 22 } }), entries, replicas)).toMatchObject({
      eligible: 40,
      affected: 22,
      observedPercent: 0.55,
      source: "proxy-counters",
    });
    expect(observeFault(f, timing(), entries, replicas)).toMatchObject({ eligible: 1, affected: 1, observedPercent: null });
  });

  it("partition: the caller's requests across it, minus those that still reached the far side", () => {
    const f = { ...base, name: "split", kind: "partition", target: "checkout", replicas: [0], attributes: { between: [{ service: "checkout", replica: null }, { service: "payments", replica: 1 }], direction: "both" } } as ResolvedFault;
    const out = (ts: number, over: Partial<AccessLogEntry> = {}) => entry({ ts, pod: "checkout-0", direction: "outbound", from: "checkout", upstream: "payments-0", ...over });
    const entries = [
      out(T + 1100, { retries: 1 }), // redispatched away from payments-1: the wall
      out(T + 1200),
      out(T + 1300),
      out(T + 1400),
      entry({ ts: T + 1050, pod: "payments-1" }), // a leak from checkout
      entry({ ts: T + 1050, pod: "payments-0" }),
    ];
    expect(observeFault(f, timing({ observedBy: "partition" }), entries, replicas)).toMatchObject({
      eligible: 4,
      affected: 3,
      observedPercent: 0.75,
      activationMs: 100,
    });
  });

  it("kill: refused by the pod's sidecar; pause: answered only at the thaw or given up on", () => {
    const kill = { ...base, name: "crash", kind: "kill", attributes: { restart: true } } as ResolvedFault;
    const refused = [entry({ ts: T + 1010, status: 503, termination: "SC--" }), entry({ ts: T + 1020, status: 503, termination: "SC--" }), entry({ ts: T + 1030 })];
    expect(observeFault(kill, timing({ observedBy: "refused" }), refused, replicas)).toMatchObject({ eligible: 3, affected: 2, activationMs: 10 });
    const pause = { ...base, name: "freeze", kind: "pause", attributes: {} } as ResolvedFault;
    const stalled = [
      entry({ ts: T + 1010, status: 200, termination: "CD--", durationMs: 300 }),
      entry({ ts: T + 1500, status: 200, durationMs: 499 }),
      entry({ ts: T + 1600, status: 200, durationMs: 3 }),
    ];
    expect(observeFault(pause, timing({ observedBy: "stalled" }), stalled, replicas)).toMatchObject({ eligible: 3, affected: 2, activationMs: 10 });
  });

  it("nothing to observe: never applied, failed, or installed-only", () => {
    expect(observeFault(abort(), undefined, [], replicas)).toMatchObject({ observedPercent: null, note: "never applied" });
    expect(observeFault(abort(), timing({ appliedAt: null, error: "x" }), [], replicas).note).toBe("its apply did not succeed");
    const bw = { ...base, name: "bw", kind: "bandwidth", attributes: { rate: "1mbit" } } as ResolvedFault;
    expect(observeFault(bw, timing({ observedBy: "installed" }), [entry({ ts: T + 1100 })], replicas)).toMatchObject({ observedBy: "installed", eligible: 0, observedPercent: null });
  });
});
