// Conformance case for `loadBalancer: peak-ewma`: with one of three replicas 150 ms slow, a
// latency-aware balancer sends it far less than round-robin's third. Both destinations get the
// same paced load (each frontend request calls both), so the two shares are measured side by side.
// Then a fast replica's app stops: once the caller takes it out (ejected or marked down), the Lua
// pick must never choose it.
import assert from "node:assert/strict";
import { ejections, healthChanges } from "../../observe/policy-events.js";
import type { AttemptEntry } from "../types.js";
import { drive, sleep } from "./drive.js";
import type { ConformanceCase } from "./harness.js";

const SLOW_MS = 150;
const RATE = 100;
const DURATION_MS = 6000;
/** A try already on its way when the replica left may still be logged after. */
const GRACE_MS = 100;

export const peakEwma: ConformanceCase = {
  name: "peak-ewma-avoids-slow-replica",
  scenario: `
name: conformance-peak-ewma
services:
  frontend: { calls: [rr, ewma] }
  rr: { replicas: 3 }
  ewma: { replicas: 3 }
load: { target: frontend }
policies:
  rr: { loadBalancer: round-robin }
  ewma:
    loadBalancer: peak-ewma
    outlierDetection: { consecutive5xx: 3, interval: 250ms, baseEjectionTime: 10s, maxEjectionPercent: 50 }
    healthCheck: { interval: 300ms, unhealthyAfter: 2, healthyAfter: 1 }
`,
  // Replica 0 of each answers in 150 ms, the others in 1 ms.
  podEnv: {
    "rr-0": { MQ_LATENCY_MIN_MS: String(SLOW_MS), MQ_LATENCY_MAX_MS: String(SLOW_MS) },
    "ewma-0": { MQ_LATENCY_MIN_MS: String(SLOW_MS), MQ_LATENCY_MAX_MS: String(SLOW_MS) },
  },
  async run(mesh) {
    const since = Date.now();
    // Paced, with room for every request in flight: the rate does not fall when replies slow down.
    const shots = await drive(mesh.ingressUrl, { concurrency: 64, rate: RATE, durationMs: DURATION_MS });
    await sleep(500);
    const tries = (to: string) =>
      mesh.events().filter((e): e is AttemptEntry => e.kind === "attempt" && e.pod.startsWith("frontend-") && e.route === to && e.ts >= since);
    const share = (xs: AttemptEntry[]) => (xs.length ? xs.filter((a) => a.replica === 0).length / xs.length : 0);
    const rr = tries("rr");
    const ewma = tries("ewma");
    const rrShare = share(rr);
    const ewmaShare = share(ewma);
    const byReplica = (xs: AttemptEntry[]) => [0, 1, 2].map((i) => xs.filter((a) => a.replica === i).length).join("/");
    assert.ok(shots.every((s) => s.status === 200), "every request succeeds");
    assert.ok(Math.abs(rrShare - 1 / 3) < 0.05, `round-robin sent ${rrShare} to the slow replica, not a third`);
    // Each new replica starts at Linkerd's default RTT (30 ms) and the slow one's first answer
    // lifts it to 150 ms: it is tried again only when that has decayed (τ = 10 s) below the fast
    // replicas' cost, so over a few seconds it gets a handful of requests: 0.003–0.015 measured,
    // 0.042 on a machine loaded far beyond its cores (fast replicas slow too, their costs near it).
    assert.ok(ewmaShare < rrShare / 4, `peak-ewma sent ${ewmaShare} of its tries to the slow replica (round-robin ${rrShare})`);
    const p50 = [...shots].sort((a, b) => a.ms - b.ms)[Math.floor(shots.length / 2)]!.ms;

    const stoppedAt = Date.now();
    await mesh.stopApp("ewma-1");
    await drive(mesh.ingressUrl, { concurrency: 64, rate: RATE, durationMs: 2500 });
    await sleep(500);
    const outAt = [
      ...ejections(mesh.events(), 0).filter((e) => e.replica === "ewma-1" && e.by === "frontend-0").map((e) => e.at),
      ...healthChanges(mesh.events(), 0).filter((h) => h.replica === "ewma-1" && h.by === "frontend-0" && !h.healthy).map((h) => h.at),
    ].filter((t) => t >= stoppedAt);
    assert.ok(outAt.length > 0, "frontend-0 never took ewma-1 out");
    const out = Math.min(...outAt);
    const afterOut = tries("ewma").filter((a) => a.replica === 1 && a.ts > out + GRACE_MS).length;
    assert.equal(afterOut, 0, `ewma-1 got ${afterOut} tries after it was taken out`);
    return {
      requests: shots.length,
      roundRobinSlowShare: Math.round(rrShare * 1000) / 1000,
      peakEwmaSlowShare: Math.round(ewmaShare * 1000) / 1000,
      roundRobinTries: byReplica(rr),
      peakEwmaTries: byReplica(ewma),
      clientP50Ms: Math.round(p50),
      outAfterStopMs: Math.round(out - stoppedAt),
      triesAfterOut: afterOut,
    };
  },
};
