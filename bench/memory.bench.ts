// Harness memory as a run grows: the same scenario (the demo's chain and fault, with an SLO per
// window and a retry-amplification property over the fault) at one rate for longer and longer,
// through the CLI; the harness's peak RSS (VmHWM, read from /proc while it runs), then
// `meshquake judge` on the largest run's recording. The goal: peak RSS of the largest run at most
// 1.15× the smallest's.
//   npx tsx bench/memory.bench.ts [requests…, default 20000 200000] [--rate N, default 500]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const args = process.argv.slice(2);
const rateAt = args.indexOf("--rate");
const RATE = rateAt >= 0 ? Number(args[rateAt + 1]) : 500;
const sizes = args.filter((a, i) => !a.startsWith("--") && (rateAt < 0 || i !== rateAt + 1)).map(Number);
const SIZES = sizes.length ? sizes : [20_000, 200_000];
const ROOT = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "mq-bench-memory-"));

const scenario = (seconds: number) => `name: memory
seed: 7
services:
  frontend: { replicas: 1, calls: [checkout] }
  checkout: { replicas: 2, calls: [payments] }
  payments: { replicas: 3, latency: 2ms..8ms }
policies:
  payments:
    timeout: 2s
    retries: { attempts: 3, perTryTimeout: 500ms, retryOn: [5xx, connect-failure] }
load: { target: frontend, model: open, rate: ${RATE}, duration: ${seconds}s }
faults:
  - { name: payments-abort, kind: abort, target: payments, percent: 20, status: 503, at: 10s, duration: 10s }
checks:
  - slo: error_rate < 1%
    window: baseline
  - slo: p(99) < 500ms
    window: whole
  - slo: error_rate < 1%
    window: fault:payments-abort
  - property: retry_amplification
    edge: { from: checkout, to: payments }
    fault: payments-abort
    max: 1.5
`;

/** Runs the CLI with `args`; its peak RSS (MB) as /proc last showed it, wall time (s), exit code. */
async function measured(cliArgs: string[]): Promise<{ peakMb: number; wallS: number; code: number | null }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(ROOT, "bin/meshquake.js"), ...cliArgs], { stdio: ["ignore", "ignore", "inherit"] });
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // gone
    }
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  clearInterval(poll);
  return { peakMb: peakKb / 1024, wallS: (performance.now() - t0) / 1000, code };
}

try {
  console.log(`harness memory: the demo's chain with a fault, open load at ${RATE} req/s, growing runs; peak RSS of the meshquake process`);
  const rows: { requests: number; peakMb: number }[] = [];
  let largest = "";
  for (const target of SIZES) {
    const seconds = Math.max(30, Math.round(target / RATE));
    const file = join(dir, `memory-${target}.yaml`);
    writeFileSync(file, scenario(seconds));
    const out = join(dir, `out-${target}`);
    const r = await measured(["run", file, "--out", out, "--quiet"]);
    const report = JSON.parse(readFileSync(join(out, "memory", "report.json"), "utf8")) as {
      client: { requests: number; errors: number };
      edges: { from: string; to: string; requests: number; attempts: number }[];
      checks: { status: string }[];
    };
    const edges = report.edges.map((e) => `${e.from}→${e.to} ${e.requests}/${e.attempts}`).join(", ");
    const recording = statSync(join(out, "memory", "recording.ndjson.gz")).size / 1e6;
    rows.push({ requests: report.client.requests, peakMb: r.peakMb });
    largest = join(out, "memory");
    console.log(
      `  ${String(report.client.requests).padStart(7)} requests (${seconds} s): peak RSS ${r.peakMb.toFixed(0)} MB, exit ${r.code}, wall ${r.wallS.toFixed(0)} s, recording ${recording.toFixed(1)} MB; ` +
        `${report.client.errors} failed; sidecars saw (requests/tries) ${edges}; checks ${report.checks.map((c) => c.status).join(" ")}`,
    );
  }
  if (rows.length > 1) {
    const ratio = rows.at(-1)!.peakMb / rows[0]!.peakMb;
    console.log(`  peak RSS, largest/smallest: ${ratio.toFixed(2)}× (goal ≤ 1.15×)`);
  }
  const j = await measured(["judge", largest, "--out", join(dir, "judged"), "--reporter", "json"]);
  console.log(`  meshquake judge on the largest run: peak RSS ${j.peakMb.toFixed(0)} MB, ${j.wallS.toFixed(1)} s, exit ${j.code}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
