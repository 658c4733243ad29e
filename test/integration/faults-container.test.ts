// Container faults on a real meshed topology: kill (SIGKILL the app; restart brings it back) and
// pause (freeze and thaw), through the Docker engine. The pod's proxy container keeps the network
// namespace, so the sidecar, the interception rules and the replica's address stay. Also: an
// abort signal mid-fault reverts every fault still on, newest first.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultScheduler } from "../../src/faults/scheduler.js";
import { faultRecords } from "../../src/observe/mesh-stats.js";
import { planTimeline } from "../../src/plan/windows.js";
import type { FaultRecord } from "../../src/model/run-report.js";
import type { ResolvedFault, ResolvedScenario } from "../../src/scenario/types.js";
import { destroyAgent, get, inboundAt, loops, percentile, round1, settleLogs, sleep, startMesh, type Answer, type Mesh } from "./faults-kit.js";

const SCENARIO = `
name: faults-container
seed: 5
services:
  frontend: { calls: [checkout] }
  checkout: { calls: [payments] }
  payments: { replicas: 3 }
policies:
  payments:
    timeout: 3s
    retries: { attempts: 3, perTryTimeout: 200ms, retryOn: [connect-failure, timeout, 5xx, reset] }
load: { target: frontend, rate: 10, duration: 300s }
faults:
  - { name: crash, kind: kill, target: payments, replicas: [2], restart: true }
  - { name: freeze, kind: pause, target: payments, replicas: [2] }
  - { name: crash-1, kind: kill, target: payments, replicas: [1], restart: true }
`;

let mesh: Mesh;
let url: string;

beforeAll(async () => {
  mesh = await startMesh("ctr", SCENARIO);
  url = `${mesh.topology.ingressUrl}/`;
});

afterAll(async () => {
  destroyAgent();
  await mesh?.close();
});

const timed = (name: string, atMs = 0, durationMs = 60_000): ResolvedFault => ({ ...mesh.fault(name), atMs, durationMs });

async function play(faults: ResolvedFault[], body: (s: FaultScheduler) => Promise<void>, signal?: AbortSignal): Promise<FaultRecord[]> {
  const startedAt = Date.now();
  const scheduler = new FaultScheduler({
    faults,
    timeline: planTimeline({ faults } as ResolvedScenario),
    pods: mesh.topology.pods,
    dataPlane: mesh.ctx.dataPlane,
    docker: mesh.ctx.docker,
    network: mesh.ctx.network,
    loadStartEpochMs: startedAt,
    signal,
  });
  const playing = scheduler.play();
  try {
    await body(scheduler);
  } finally {
    await scheduler.revertAll();
    await playing;
  }
  await settleLogs();
  return faultRecords({ ...mesh.scenario, faults }, scheduler.records(), { entries: mesh.entries, loadStartEpochMs: startedAt });
}

async function whenApplied(s: FaultScheduler, name: string): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const t = s.records().find((r) => r.name === name)!;
    if (t.error) throw new Error(t.error);
    if (t.appliedAt !== null) return t.appliedAt;
    await sleep(5);
  }
  throw new Error(`fault ${name} was not applied within 5 s`);
}

const appState = async (pod: string) => (await mesh.ctx.docker.getContainer(mesh.pod(pod).ids.app).inspect()).State;

describe("container faults through Docker, on a real mesh", () => {
  it("kill: payments-2's app dies (its sidecar answers 503), checkout retries elsewhere; with restart it comes back and serves again", async () => {
    let during: Answer[] = [];
    const window = { from: 0, to: 0 };
    const [record] = await play([timed("crash")], async (s) => {
      window.from = await whenApplied(s, "crash");
      expect((await appState("payments-2")).Running).toBe(false);
      const l = loops(4, url);
      await sleep(1500);
      during = await l.stop();
      window.to = Date.now();
    });
    expect((await appState("payments-2")).Running).toBe(true);
    const restartedAt = Date.now();
    const after = loops(4, url);
    await sleep(800);
    const afterAnswers = await after.stop();
    await settleLogs();
    const refused = inboundAt(mesh.entries, "payments-2", window.from, window.to, "checkout");
    const servedAgain = inboundAt(mesh.entries, "payments-2", restartedAt, Date.now(), "checkout");
    console.log(
      `kill payments-2 (restart): ${during.filter((a) => a.status === 200).length}/${during.length} client requests 200 during, ` +
        `p99 ${round1(percentile(during.map((a) => a.ms), 99))} ms; payments-2's sidecar answered ${refused.map((e) => `${e.status} ${e.termination}`).slice(0, 3).join(", ")}… (${refused.length}); ` +
        `restart took ${record!.revertedAt! - record!.revertSentAt!} ms to answer its health check; ${servedAgain.filter((e) => e.status === 200).length} requests served by payments-2 after`,
    );
    expect(during.every((a) => a.status === 200)).toBe(true);
    expect(refused.length).toBeGreaterThan(3);
    expect(refused.every((e) => e.status === 503 && e.termination.startsWith("SC"))).toBe(true);
    expect(afterAnswers.every((a) => a.status === 200)).toBe(true);
    expect(servedAgain.filter((e) => e.status === 200).length).toBeGreaterThan(3);
    expect(record).toMatchObject({ landed: true, observedBy: "refused", observedPercent: 1 });
    expect(record!.evidence!.join(" ")).toMatch(/payments-2: app killed with SIGKILL \(exit 137\); restarts when the fault ends/);
  });

  it("pause: payments-2's app freezes (requests to it wait for checkout's per-try timeout), then thaws and serves again", async () => {
    let during: Answer[] = [];
    const window = { from: 0, to: 0 };
    const [record] = await play([timed("freeze")], async (s) => {
      window.from = await whenApplied(s, "freeze");
      expect((await appState("payments-2")).Paused).toBe(true);
      const l = loops(4, url);
      await sleep(1500);
      during = await l.stop();
      window.to = Date.now();
    });
    expect((await appState("payments-2")).Paused).toBe(false);
    const thawedAt = Date.now();
    const after = loops(4, url);
    await sleep(800);
    await after.stop();
    await settleLogs();
    const stalled = inboundAt(mesh.entries, "payments-2", window.from, window.to, "checkout");
    const servedAgain = inboundAt(mesh.entries, "payments-2", thawedAt, Date.now(), "checkout");
    const slow = during.filter((a) => a.ms >= 200);
    console.log(
      `pause payments-2: ${during.filter((a) => a.status === 200).length}/${during.length} client requests 200 during, ${slow.length} waited ≥ 200 ms ` +
        `(p99 ${round1(percentile(during.map((a) => a.ms), 99))} ms); payments-2's sidecar logged ${stalled.map((e) => `${e.status} ${e.termination} ${e.durationMs}ms`).slice(0, 3).join(", ")}… (${stalled.length}); ` +
        `${servedAgain.filter((e) => e.status === 200).length} served after the thaw`,
    );
    expect(during.every((a) => a.status === 200)).toBe(true);
    expect(slow.length).toBeGreaterThan(3);
    expect(stalled.length).toBeGreaterThan(3);
    expect(stalled.every((e) => e.status !== 200 || e.ts + e.durationMs >= window.to - 2)).toBe(true);
    expect(servedAgain.filter((e) => e.status === 200).length).toBeGreaterThan(3);
    expect(record).toMatchObject({ landed: true, observedBy: "stalled", observedPercent: 1 });
  });

  it("an abort signal mid-fault (SIGINT/SIGTERM) reverts every fault still on, newest first", async () => {
    const controller = new AbortController();
    const records = await play(
      [timed("freeze", 0, 30_000), timed("crash-1", 300, 30_000)],
      async (s) => {
        await whenApplied(s, "freeze");
        await whenApplied(s, "crash-1");
        expect((await appState("payments-2")).Paused).toBe(true);
        expect((await appState("payments-1")).Running).toBe(false);
        controller.abort(new Error("SIGTERM"));
        // The scheduler reverts on its own when the signal fires: wait for it, as the run's teardown would.
        await s.revertAll();
      },
      controller.signal,
    );
    const [freeze, crash] = records;
    expect((await appState("payments-2")).Paused).toBe(false);
    expect((await appState("payments-1")).Running).toBe(true);
    expect(freeze).toMatchObject({ revertedBy: "teardown" });
    expect(crash).toMatchObject({ revertedBy: "teardown" });
    // Newest first: crash-1 (applied second) was reverted before freeze.
    expect(crash!.revertSentAt!).toBeLessThanOrEqual(freeze!.revertSentAt!);
    expect(crash!.revertedAt!).toBeLessThanOrEqual(freeze!.revertSentAt!);
    expect((await get(url)).status).toBe(200);
    console.log(
      `abort signal: reverts sent newest first at +${crash!.revertSentAt} ms (crash-1: restarted and healthy at +${crash!.revertedAt} ms) ` +
        `and +${freeze!.revertSentAt} ms (freeze: thawed at +${freeze!.revertedAt} ms), times from the timeline's start`,
    );
  });
});
