import { describe, expect, it } from "vitest";
import type { DataPlane } from "../dataplane/types.js";
import { planTimeline } from "../plan/windows.js";
import type { StartedPod } from "../runtime/topology.js";
import type { FaultKind, ResolvedFault, ResolvedScenario } from "../scenario/types.js";
import type { FaultInjector, FaultWindow } from "./injector.js";
import type { FaultRegistry } from "./registry.js";
import { FaultScheduler } from "./scheduler.js";

const base = { target: "payments", replicas: [0], from: null, match: null, probability: 1, location: { line: 1, col: 1 } };
const fault = (name: string, atMs: number, durationMs: number, kind: FaultKind = "abort"): ResolvedFault =>
  (kind === "abort" ? { ...base, name, kind, status: 503, atMs, durationMs } : { ...base, name, kind, atMs, durationMs, attributes: {} }) as ResolvedFault;

type Event = { t: number; what: string };

/** A registry whose injectors record what happens, with a controllable apply delay and failures. */
function fakeRegistry(events: Event[], t0: number, opts: { applyMs?: number; fail?: string[]; leadMs?: number } = {}) {
  const windows = new Map<string, FaultWindow>();
  const injector = <K extends FaultKind>(kind: K): FaultInjector<K> => ({
    kind,
    layer: "sidecar",
    observedBy: "tagged",
    deadMan: "test",
    determinism: "test",
    pods: (f) => [`${f.target}-0`],
    leadMs: () => opts.leadMs ?? 0,
    async apply(f, _ctx, window) {
      events.push({ t: Date.now() - t0, what: `apply ${f.name}` });
      windows.set(f.name, window);
      await new Promise((r) => setTimeout(r, opts.applyMs ?? 0));
      if (opts.fail?.includes(f.name)) throw new Error("no such pod");
      return {
        evidence: [`${f.name} on`],
        revert: async () => {
          events.push({ t: Date.now() - t0, what: `revert ${f.name}` });
          return { counters: { seen: 10, hits: 4 } };
        },
      };
    },
  });
  const registry = Object.fromEntries(
    (["abort", "delay", "blackhole", "reset", "partition", "kill", "pause", "bandwidth"] as const).map((k) => [k, injector(k)]),
  ) as unknown as FaultRegistry;
  return { registry, windows };
}

function scheduler(faults: ResolvedFault[], registry: FaultRegistry, t0: number, signal?: AbortSignal) {
  return new FaultScheduler({
    faults,
    timeline: planTimeline({ faults } as ResolvedScenario),
    pods: [] as StartedPod[],
    dataPlane: { name: "haproxy" } as DataPlane,
    docker: {} as never,
    network: "n",
    loadStartEpochMs: t0,
    injectors: registry,
    signal,
  });
}

describe("FaultScheduler", () => {
  it("plays overlapping faults at their times; a slow apply does not hold back the next entry", async () => {
    const events: Event[] = [];
    const t0 = Date.now();
    const { registry, windows } = fakeRegistry(events, t0, { applyMs: 60 });
    const s = scheduler([fault("a", 0, 100), fault("b", 30, 100)], registry, t0);
    await s.play();
    const at = (what: string) => events.find((e) => e.what === what)!.t;
    expect(at("apply b")).toBeLessThan(55); // not after a's 60 ms apply
    expect(at("revert a")).toBeGreaterThanOrEqual(98);
    expect(at("revert b")).toBeGreaterThanOrEqual(128);
    expect(windows.get("b")).toEqual({ startEpochMs: t0 + 30, untilEpochMs: t0 + 130 });
    const [a, b] = s.records();
    expect(a).toMatchObject({ revertedBy: "schedule", error: null, evidence: ["a on"], counters: { seen: 10, hits: 4 }, pods: ["payments-0"] });
    expect(b!.appliedAt! - t0).toBeGreaterThanOrEqual(89);
    expect(b!.untilEpochMs).toBe(t0 + 130);
  });

  it("sends an apply its injector's lead ahead of the start, and records the start as appliedAt", async () => {
    const events: Event[] = [];
    const t0 = Date.now();
    const { registry } = fakeRegistry(events, t0, { leadMs: 40 });
    const s = scheduler([fault("a", 60, 50)], registry, t0);
    await s.play();
    expect(events[0]!.t).toBeGreaterThanOrEqual(18);
    expect(events[0]!.t).toBeLessThan(50);
    const [a] = s.records();
    expect(a!.appliedAt).toBe(t0 + 60);
    expect(a!.armedAt! - t0).toBeLessThan(60);
  });

  it("revertAll reverts newest first, waits for an apply in flight, and stops the timeline", async () => {
    const events: Event[] = [];
    const t0 = Date.now();
    const { registry } = fakeRegistry(events, t0, { applyMs: 30 });
    const s = scheduler([fault("a", 0, 10_000), fault("b", 10, 10_000), fault("c", 500, 100)], registry, t0);
    const playing = s.play();
    await new Promise((r) => setTimeout(r, 20)); // b's apply is in flight
    expect(await s.revertAll()).toEqual([]);
    await playing;
    expect(events.map((e) => e.what)).toEqual(["apply a", "apply b", "revert b", "revert a"]);
    expect(s.records().map((r) => r.revertedBy)).toEqual(["teardown", "teardown", null]);
    // Idempotent: a second call reverts nothing more.
    expect(await s.revertAll()).toEqual([]);
    expect(events).toHaveLength(4);
  });

  it("an aborted signal stops the timeline and reverts by itself", async () => {
    const events: Event[] = [];
    const t0 = Date.now();
    const { registry } = fakeRegistry(events, t0);
    const controller = new AbortController();
    const s = scheduler([fault("a", 0, 10_000), fault("b", 200, 100)], registry, t0, controller.signal);
    const playing = s.play();
    await new Promise((r) => setTimeout(r, 30));
    controller.abort();
    await playing;
    await s.revertAll();
    expect(events.map((e) => e.what)).toEqual(["apply a", "revert a"]);
  });

  it("returns revert errors once, to the first caller", async () => {
    const t0 = Date.now();
    const registry = fakeRegistry([], t0).registry;
    const failing = {
      ...registry,
      abort: { ...registry.abort, apply: async () => ({ evidence: [], revert: async () => Promise.reject(new Error("admin port closed")) }) },
    } as FaultRegistry;
    const controller = new AbortController();
    const s = scheduler([fault("a", 0, 10_000)], failing, t0, controller.signal);
    const playing = s.play();
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(); // the scheduler starts reverting by itself
    expect(await s.revertAll()).toEqual(["a: revert failed: admin port closed"]);
    expect(await s.revertAll()).toEqual([]);
    await playing;
    expect(s.records()[0]!.error).toBe("revert failed: admin port closed");
  });

  it("records a failed apply and never reverts it; a fault already past its end is not applied", async () => {
    const events: Event[] = [];
    const t0 = Date.now() - 1000;
    const { registry } = fakeRegistry(events, t0, { fail: ["a"] });
    const s = scheduler([fault("a", 1000, 10_000), fault("late", 0, 500)], registry, t0);
    const playing = s.play();
    await new Promise((r) => setTimeout(r, 20));
    await s.revertAll();
    await playing;
    const [a, late] = s.records();
    expect(a!.error).toBe("apply failed: no such pod");
    expect(a!.appliedAt).toBeNull();
    expect(late!.error).toMatch(/^not applied: its scheduled end had passed/);
    expect(events.map((e) => e.what)).toEqual(["apply a"]);
  });

  it("a fault set ahead and taken back before its start never acted", async () => {
    const events: Event[] = [];
    const t0 = Date.now();
    const { registry } = fakeRegistry(events, t0, { leadMs: 1000 });
    const s = scheduler([fault("a", 500, 1000)], registry, t0);
    const playing = s.play();
    await new Promise((r) => setTimeout(r, 30));
    await s.revertAll();
    await playing;
    const [a] = s.records();
    expect(a!.appliedAt).toBeNull();
    expect(a!.evidence).toContain("reverted before its scheduled start: it never acted");
  });
});
