import type { EdgeSecond, MeshTimeline } from "../model/run-report.js";
import type { ResolvedScenario } from "../scenario/types.js";
import type { MeshLog } from "./mesh-stats.js";

const podService = (pod: string) => pod.slice(0, pod.lastIndexOf("-"));

/**
 * Per-second series from the sidecars' access logs, one slot per second of load: for each edge the
 * requests, attempts, retries and failed requests; for each replica the requests it received. A
 * request belongs to the second in which its sidecar accepted it.
 */
export function meshTimeline(scenario: ResolvedScenario, log: MeshLog): MeshTimeline {
  const seconds = Math.ceil(scenario.load.durationMs / 1000);
  const slot = (ts: number) => {
    const t = Math.floor((ts - log.loadStartEpochMs) / 1000);
    return t >= 0 && t < seconds ? t : -1;
  };
  const edges = new Map<string, { from: string; to: string; points: EdgeSecond[] }>();
  for (const s of scenario.services) {
    for (const to of s.calls) {
      const points = Array.from({ length: seconds }, (_, t) => ({ t, requests: 0, attempts: 0, retries: 0, errors: 0 }));
      edges.set(`${s.name}>${to}`, { from: s.name, to, points });
    }
  }
  const replicas = new Map<string, { service: string; index: number; requests: number[] }>();
  for (const s of scenario.services) {
    for (let index = 0; index < s.replicas; index++) {
      replicas.set(`${s.name}-${index}`, { service: s.name, index, requests: new Array<number>(seconds).fill(0) });
    }
  }
  for (const e of log.entries) {
    const t = slot(e.ts);
    if (t < 0 || e.healthCheck) continue;
    if (e.direction === "outbound") {
      const p = edges.get(`${podService(e.pod)}>${e.route}`)?.points[t];
      if (!p) continue;
      p.requests++;
      p.retries += e.retries;
      if (e.status >= 500 || e.status === 0) p.errors++;
    } else {
      const r = replicas.get(e.pod);
      if (r) r.requests[t]!++;
      const p = e.from ? edges.get(`${e.from}>${podService(e.pod)}`)?.points[t] : undefined;
      if (p) p.attempts++;
    }
  }
  return { edges: [...edges.values()], replicas: [...replicas.values()] };
}
