// What one sidecar hop costs a request, for HTTP/1.1 and for gRPC in the same run, measured inside
// the pod so both paths start at the same place: the same fixture app (no service time) called
// directly on 127.0.0.1:<app port>, and through its pod's inbound sidecar on 127.0.0.1:15006 (the
// hop every request in the mesh pays, with everything it does: fault table, access log to the
// harness). One mesh, two services: `api` (the HTTP fixture) and `rpc` (the gRPC fixture, h2c;
// its sidecar speaks h2 to it). Rounds alternate all four paths; each figure is the median over
// rounds.
//   - one connection (closed loop: the hop's latency with nothing queued): HTTP/1.1 wrk -t1 -c1;
//     gRPC one unary call at a time on one HTTP/2 connection (kit/grpc-closed-probe.ts; wrk cannot
//     speak h2). Different clients, so compare the two protocols' taxes, not their raw latencies;
//   - 1,000 req/s open loop: meshquake's own generator (HTTP/1.1 GET /, or the gRPC transport
//     calling meshquake.Fixture/Call), run in the pod's network namespace.
//   npx tsx bench/sidecar-tax.bench.ts [rounds, default 3] [seconds per run, default 4]
import { join } from "node:path";
import type { ClosedSummary } from "./kit/grpc-closed-probe.js";
import { inNetns, parseWrk, startBenchMesh } from "./kit/mesh.js";
import type { OpenSummary } from "./kit/open-summary.js";

const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 4);
const RATE = 1000;
const TSX = join(import.meta.dirname, "../node_modules/.bin/tsx");
const OPEN_PROBE = join(import.meta.dirname, "kit/open-probe.ts");
const GRPC_CLOSED_PROBE = join(import.meta.dirname, "kit/grpc-closed-probe.ts");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(3)} ms`;

type Protocol = "http" | "grpc";
const LABEL: Record<Protocol, string> = { http: "HTTP/1.1", grpc: "gRPC" };
const PATHS = ["direct", "sidecar"] as const;
type PathName = (typeof PATHS)[number];

interface Figures {
  closed: { p50: number[]; p99: number[]; rps: number[] };
  open: { p50: number[]; p99: number[]; sent: number[]; errors: number[] };
}

const mesh = await startBenchMesh("tax", `
name: tax
services:
  api: { replicas: 1, latency: 0ms }
  rpc: { protocol: grpc, replicas: 1, latency: 0ms }
load: { target: api, rate: 10, duration: 5s }
`);
try {
  const pods: Record<Protocol, { pid: number; urls: Record<PathName, string> }> = { http: null!, grpc: null! };
  for (const [protocol, service] of [["http", "api"], ["grpc", "rpc"]] as const) {
    const pod = mesh.plan.pods.find((p) => p.service === service)!;
    pods[protocol] = {
      pid: await mesh.netnsPid(pod.id),
      urls: { direct: `http://127.0.0.1:${pod.app.port}/`, sidecar: "http://127.0.0.1:15006/" },
    };
  }
  const figures = {} as Record<Protocol, Record<PathName, Figures>>;
  for (const protocol of ["http", "grpc"] as const) {
    figures[protocol] = {} as Record<PathName, Figures>;
    for (const path of PATHS) {
      figures[protocol][path] = { closed: { p50: [], p99: [], rps: [] }, open: { p50: [], p99: [], sent: [], errors: [] } };
    }
  }

  const closed = async (protocol: Protocol, pid: number, url: string) => {
    if (protocol === "http") return parseWrk(await inNetns(pid, "wrk", ["-t1", "-c1", `-d${SECONDS}s`, "--latency", url]));
    const c = JSON.parse(await inNetns(pid, TSX, [GRPC_CLOSED_PROBE, url, String(SECONDS)])) as ClosedSummary;
    if (c.errors > 0) throw new Error(`gRPC one-connection probe to ${url}: ${c.errors} of ${c.calls} calls failed`);
    return { p50: c.p50Us / 1000, p99: c.p99Us / 1000, rps: c.rps };
  };

  const linesBefore = mesh.lines();
  for (let round = 0; round < ROUNDS; round++) {
    for (const protocol of ["http", "grpc"] as const) {
      const { pid, urls } = pods[protocol];
      for (const path of PATHS) {
        const f = figures[protocol][path];
        const c = await closed(protocol, pid, urls[path]);
        f.closed.p50.push(c.p50);
        f.closed.p99.push(c.p99);
        f.closed.rps.push(c.rps);
        const probeArgs = [OPEN_PROBE, urls[path], String(RATE), String(SECONDS), ...(protocol === "grpc" ? ["grpc"] : [])];
        const o = JSON.parse(await inNetns(pid, TSX, probeArgs)) as OpenSummary;
        f.open.p50.push(o.p50Us / 1000);
        f.open.p99.push(o.p99Us / 1000);
        f.open.sent.push(o.sent / o.intended);
        f.open.errors.push(o.errors);
      }
    }
  }
  const lines = mesh.lines() - linesBefore;

  const row = (label: string, d: number, s: number, goal: string) =>
    console.log(`  ${label.padEnd(30)} ${ms(d).padStart(10)} ${ms(s).padStart(10)} ${ms(s - d).padStart(10)}   ${goal}`);
  const tax: Record<Protocol, Record<"closedP50" | "closedP99" | "openP50" | "openP99", number>> = {} as never;
  for (const protocol of ["http", "grpc"] as const) {
    const { direct: d, sidecar: s } = figures[protocol];
    const one = protocol === "http" ? "one connection (wrk -c1)" : "one connection (1 stream)";
    console.log(`sidecar tax per hop, ${LABEL[protocol]}: fixture app direct vs through its inbound sidecar (median of ${ROUNDS} rounds, ${SECONDS} s each)`);
    console.log(`  ${"".padEnd(30)} ${"direct".padStart(10)} ${"sidecar".padStart(10)} ${"tax".padStart(10)}`);
    row(`${one} p50`, median(d.closed.p50), median(s.closed.p50), "goal tax ≤ 0.1 ms");
    row(`${one} p99`, median(d.closed.p99), median(s.closed.p99), "goal tax ≤ 0.3 ms");
    row("1,000 req/s open p50", median(d.open.p50), median(s.open.p50), "goal tax ≤ 0.1 ms");
    row("1,000 req/s open p99", median(d.open.p99), median(s.open.p99), "goal tax ≤ 0.3 ms");
    console.log(
      `  one connection req/s: direct ${median(d.closed.rps).toFixed(0)}, sidecar ${median(s.closed.rps).toFixed(0)}; ` +
        `open sent/intended: direct ${(100 * median(d.open.sent)).toFixed(1)}%, sidecar ${(100 * median(s.open.sent)).toFixed(1)}%; ` +
        `open errors (all rounds): direct ${d.open.errors.reduce((a, b) => a + b, 0)}, sidecar ${s.open.errors.reduce((a, b) => a + b, 0)}`,
    );
    tax[protocol] = {
      closedP50: median(s.closed.p50) - median(d.closed.p50),
      closedP99: median(s.closed.p99) - median(d.closed.p99),
      openP50: median(s.open.p50) - median(d.open.p50),
      openP99: median(s.open.p99) - median(d.open.p99),
    };
  }
  const pair = (t: (typeof tax)[Protocol], p50: "closedP50" | "openP50", p99: "closedP99" | "openP99") => `${t[p50].toFixed(3)}/${t[p99].toFixed(3)} ms`;
  console.log(
    `tax per hop p50/p99: HTTP/1.1 ${pair(tax.http, "closedP50", "closedP99")}, gRPC ${pair(tax.grpc, "closedP50", "closedP99")} (one connection); ` +
      `HTTP/1.1 ${pair(tax.http, "openP50", "openP99")}, gRPC ${pair(tax.grpc, "openP50", "openP99")} (1,000 req/s open)`,
  );
  console.log(`  access-log lines the harness received: ${lines}`);
} finally {
  await mesh.close();
}
