// What one sidecar hop costs a request, measured inside the pod so both paths start at the same
// place: the same fixture app (no service time) called directly on 127.0.0.1:<app port>, and
// through its pod's inbound sidecar on 127.0.0.1:15006 (the hop every request in the mesh pays,
// with everything it does: fault table, access log to the harness). Rounds alternate the two
// paths; each figure is the median over rounds.
//   - one connection: wrk -t1 -c1 (closed loop: the hop's latency with nothing queued);
//   - 1,000 req/s open loop: meshquake's own generator, run in the pod's network namespace.
//   npx tsx bench/sidecar-tax.bench.ts [rounds, default 3] [seconds per run, default 4]
import { join } from "node:path";
import { inNetns, parseWrk, startBenchMesh } from "./kit/mesh.js";
import type { OpenSummary } from "./kit/open-summary.js";

const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 4);
const TSX = join(import.meta.dirname, "../node_modules/.bin/tsx");
const PROBE = join(import.meta.dirname, "kit/open-probe.ts");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(3)} ms`;

const mesh = await startBenchMesh("tax", `
name: tax
services:
  api: { replicas: 1, latency: 0ms }
load: { target: api, rate: 10, duration: 5s }
`);
try {
  const pid = await mesh.netnsPid("api-0");
  const app = mesh.plan.pods[0]!.app.port;
  const paths = { direct: `http://127.0.0.1:${app}/`, sidecar: "http://127.0.0.1:15006/" } as const;
  const wrk: Record<string, { p50: number[]; p99: number[]; rps: number[] }> = {};
  const open: Record<string, { p50: number[]; p99: number[]; sent: number[] }> = {};
  for (const name of Object.keys(paths)) {
    wrk[name] = { p50: [], p99: [], rps: [] };
    open[name] = { p50: [], p99: [], sent: [] };
  }
  const linesBefore = mesh.lines();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url] of Object.entries(paths)) {
      const r = parseWrk(await inNetns(pid, "wrk", ["-t1", "-c1", `-d${SECONDS}s`, "--latency", url]));
      wrk[name]!.p50.push(r.p50);
      wrk[name]!.p99.push(r.p99);
      wrk[name]!.rps.push(r.rps);
      const o = JSON.parse(await inNetns(pid, TSX, [PROBE, url, "1000", String(SECONDS)])) as OpenSummary;
      open[name]!.p50.push(o.p50Us / 1000);
      open[name]!.p99.push(o.p99Us / 1000);
      open[name]!.sent.push(o.sent / o.intended);
    }
  }
  const row = (label: string, d: number, s: number, goal: string) =>
    console.log(`  ${label.padEnd(30)} ${ms(d).padStart(10)} ${ms(s).padStart(10)} ${ms(s - d).padStart(10)}   ${goal}`);
  console.log(`sidecar tax per hop: fixture app direct vs through its inbound sidecar (median of ${ROUNDS} rounds, ${SECONDS} s each)`);
  console.log(`  ${"".padEnd(30)} ${"direct".padStart(10)} ${"sidecar".padStart(10)} ${"tax".padStart(10)}`);
  row("one connection p50", median(wrk.direct!.p50), median(wrk.sidecar!.p50), "goal tax ≤ 0.1 ms");
  row("one connection p99", median(wrk.direct!.p99), median(wrk.sidecar!.p99), "goal tax ≤ 0.3 ms");
  row("1,000 req/s open p50", median(open.direct!.p50), median(open.sidecar!.p50), "goal tax ≤ 0.1 ms");
  row("1,000 req/s open p99", median(open.direct!.p99), median(open.sidecar!.p99), "goal tax ≤ 0.3 ms");
  console.log(
    `  one connection req/s: direct ${median(wrk.direct!.rps).toFixed(0)}, sidecar ${median(wrk.sidecar!.rps).toFixed(0)}; ` +
      `open sent/intended: direct ${(100 * median(open.direct!.sent)).toFixed(1)}%, sidecar ${(100 * median(open.sidecar!.sent)).toFixed(1)}%; ` +
      `access-log lines the harness received: ${mesh.lines() - linesBefore}`,
  );
} finally {
  await mesh.close();
}
