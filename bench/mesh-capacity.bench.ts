// How much a meshed chain carries: frontend → checkout ×2 → payments ×2 (the fixture, 1 ms of
// service time per hop), open-loop load from meshquake's generator straight to the ingress pod's
// address on the run network (no docker-proxy in the way), rising until the chain no longer holds
// (error rate < 1%, p50 < 25 ms, ≥ 99% of the schedule sent). Twice in the same run: with the
// access logs on (every sidecar line read by the harness, as in a run) and with them off (the same
// sidecars without `log`), so the cost of observation is a ratio. CPU per request (generator,
// proxy containers (sidecars), apps, dockerd, harness) is read from the cgroups and /proc around the last
// rate that held.
//   npx tsx bench/mesh-capacity.bench.ts [seconds per step, default 5]
import { prepareOpenLoad } from "../src/load/open-driver.js";
import type { ClientSample } from "../src/observe/client-recorder.js";
import { cpuSnapshot, cpuPerRequest, type CpuSnapshot } from "./kit/cpu.js";
import { docker, startBenchMesh, type BenchMesh } from "./kit/mesh.js";
import { benchLoad, summarize, type OpenSummary } from "./kit/open-summary.js";

const SECONDS = Number(process.argv[2] ?? 5);
const RATES = [250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000];
const YAML = `
name: chain
services:
  frontend: { replicas: 1, calls: [checkout] }
  checkout: { replicas: 2, calls: [payments] }
  payments: { replicas: 2 }
load: { target: frontend, rate: 10, duration: 5s }
`;

/** One open-loop step; `around` runs just before and just after the load itself (not its warm-up). */
async function step(url: string, rate: number, around?: () => Promise<void>): Promise<OpenSummary> {
  const samples: ClientSample[] = [];
  const load = await prepareOpenLoad(benchLoad(url, rate, SECONDS, samples));

  await around?.();
  await load.start();
  await around?.();
  return summarize(rate, samples);
}

const holds = (r: OpenSummary) => r.errors < 0.01 * r.intended && r.p50Us < 25_000 && r.sent >= 0.99 * r.intended;

interface Capacity {
  held: OpenSummary | null;
  tried: string[];
  cpu: Record<string, number> | null;
}

async function capacity(mesh: BenchMesh): Promise<Capacity> {
  const ingress = mesh.pod("frontend-0");
  const ip = Object.values((await docker.getContainer(ingress.ids.proxy).inspect()).NetworkSettings.Networks)[0]!.IPAddress;
  const url = `http://${ip}:15006`;
  await step(url, 200); // warm-up: JIT, connections, the sidecars' pools
  let held: OpenSummary | null = null;
  let cpu: Record<string, number> | null = null;
  const tried: string[] = [];
  const heldRate = (): number => (held as OpenSummary | null)?.rate ?? 0;
  const attempt = async (rate: number): Promise<boolean> => {
    const snaps: CpuSnapshot[] = [];
    const r = await step(url, rate, async () => void snaps.push(await cpuSnapshot(mesh)));
    const [before, after] = snaps as [CpuSnapshot, CpuSnapshot];
    const ok = holds(r);
    tried.push(`${rate}${ok ? "✓" : "✗"}(p50 ${(r.p50Us / 1000).toFixed(1)} ms, err ${((100 * r.errors) / r.intended).toFixed(1)}%)`);
    if (ok && rate > heldRate()) {
      held = r;
      cpu = cpuPerRequest(before, after, r.sent);
    }
    return ok;
  };
  // Up the ladder until a rate does not hold, then halve the gap down to 50 req/s.
  let failed = 0;
  for (const rate of RATES) {
    if (!(await attempt(rate))) {
      failed = rate;
      break;
    }
  }
  while (failed > 0 && failed - heldRate() > 50) {
    const mid = Math.round((heldRate() + failed) / 2 / 25) * 25;
    if (!(await attempt(mid))) failed = mid;
  }
  return { held, tried, cpu };
}

const results: Record<string, Capacity> = {};
for (const observation of ["on", "off"] as const) {
  const mesh = await startBenchMesh(`chain-obs-${observation}`, YAML, {}, observation === "off" ? { accessLog: false } : {});
  try {
    results[observation] = await capacity(mesh);
    results[observation]!.tried.push(`(${mesh.lines()} sidecar lines read)`);
  } finally {
    await mesh.close();
  }
}

console.log(`mesh capacity: frontend → checkout ×2 → payments ×2, open loop, ${SECONDS} s a step; holds = errors < 1%, p50 < 25 ms, ≥ 99% sent`);
for (const [obs, c] of Object.entries(results)) {
  console.log(`  observation ${obs.padEnd(4)} highest rate held: ${c.held ? `${c.held.rate} req/s (p50 ${(c.held.p50Us / 1000).toFixed(1)} ms, p99 ${(c.held.p99Us / 1000).toFixed(1)} ms)` : "none"}`);
  console.log(`    tried ${c.tried.join(" ")}`);
  if (c.cpu) console.log(`    CPU per request at that rate: ${Object.entries(c.cpu).map(([k, v]) => `${k} ${v.toFixed(2)} ms`).join(", ")}`);
}
const on = results.on?.held?.rate ?? 0;
const off = results.off?.held?.rate ?? 0;
if (off > 0) console.log(`  observation costs ${(100 * (1 - on / off)).toFixed(0)}% of capacity (goal ≤ 20%); goal with observation on: ≥ 500 req/s (1,000 aimed for)`);
