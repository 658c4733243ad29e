// What `loadBalancer: peak-ewma` (images/haproxy/ewma.lua: a Lua pick per request, a Lua sample
// per try) costs a call, against round-robin in the same sidecar: api-0's outbound listener
// called from inside its pod with Host: rr and Host: ewma, two destinations of three replicas
// that differ only in their balancer. Rounds alternate the two; each figure is the median.
//   - one connection: wrk -t1 -c1 (the hop's latency with nothing queued);
//   - eight connections: wrk -t2 -c8 (throughput: where the Lua's CPU shows).
//   npx tsx bench/peak-ewma.bench.ts [rounds, default 3] [seconds per run, default 4]
import { POD_PORTS } from "../src/plan/types.js";
import { inNetns, parseWrk, startBenchMesh } from "./kit/mesh.js";

const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 4);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(3)} ms`;

const mesh = await startBenchMesh("ewma-lua", `
name: ewma-lua
services:
  api: { replicas: 1, latency: 0ms, calls: [rr, ewma] }
  rr: { replicas: 3, latency: 0ms }
  ewma: { replicas: 3, latency: 0ms }
policies:
  rr: { loadBalancer: round-robin }
  ewma: { loadBalancer: peak-ewma }
load: { target: api, rate: 10, duration: 5s }
`);
try {
  const pid = await mesh.netnsPid("api-0");
  const url = `http://127.0.0.1:${POD_PORTS.outbound}/`;
  const routes = ["rr", "ewma"] as const;
  const one: Record<string, { p50: number[]; p99: number[] }> = { rr: { p50: [], p99: [] }, ewma: { p50: [], p99: [] } };
  const many: Record<string, number[]> = { rr: [], ewma: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const route of routes) {
      const r = parseWrk(await inNetns(pid, "wrk", ["-t1", "-c1", `-d${SECONDS}s`, "--latency", "-H", `Host: ${route}`, url]));
      one[route]!.p50.push(r.p50);
      one[route]!.p99.push(r.p99);
      many[route]!.push(parseWrk(await inNetns(pid, "wrk", ["-t2", "-c8", `-d${SECONDS}s`, "--latency", "-H", `Host: ${route}`, url])).rps);
    }
  }
  console.log(`peak-ewma's Lua per call: api-0's outbound sidecar, round-robin vs peak-ewma (median of ${ROUNDS} rounds, ${SECONDS} s each)`);
  console.log(`  ${"".padEnd(26)} ${"round-robin".padStart(12)} ${"peak-ewma".padStart(12)} ${"difference".padStart(12)}`);
  const row = (label: string, a: number, b: number, fmt: (x: number) => string) =>
    console.log(`  ${label.padEnd(26)} ${fmt(a).padStart(12)} ${fmt(b).padStart(12)} ${fmt(b - a).padStart(12)}`);
  row("one connection p50", median(one.rr!.p50), median(one.ewma!.p50), ms);
  row("one connection p99", median(one.rr!.p99), median(one.ewma!.p99), ms);
  row("8 connections req/s", median(many.rr!), median(many.ewma!), (x) => x.toFixed(0));
} finally {
  await mesh.close();
}
