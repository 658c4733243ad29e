// What recording every response costs, measured in one run so the ratios compare like with like.
//   npx tsx bench/closed-load.bench.ts            (add --quick to skip the live-load part)
// 1. ClientRecorder.record() against a baseline loop doing the same iteration into a trivial
//    sink, over 600k samples (10 minutes at 1000 rps): ns per sample and the ratio.
// 2. Memory retained by the recorder after those 600k samples, against keeping the samples
//    themselves (what a per-request array would cost).
// 3. Live: CPU of runLoad (staggered autocannon instances + per-request tracking + recorder)
//    against one bare autocannon instance at the same rate, both against one local server on
//    127.0.0.1: per request, and per run (instance set-up and teardown).
import http from "node:http";
import type { AddressInfo } from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import autocannon from "autocannon";
import { runClosedLoad as runLoad } from "../src/load/closed-loop.js";
import { ClientRecorder, type ClientSample } from "../src/observe/client-recorder.js";
import type { WindowSpan } from "../src/plan/types.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const SAMPLES = 600_000;
const RUN_MS = 600_000;
const WINDOWS: WindowSpan[] = [
  { name: "whole", ref: { kind: "whole" }, start: 0, end: RUN_MS },
  { name: "baseline", ref: { kind: "baseline" }, start: 0, end: 120_000 },
  { name: "fault:abort", ref: { kind: "fault", fault: "abort" }, start: 120_000, end: 300_000 },
  { name: "recovery:abort", ref: { kind: "recovery", fault: "abort" }, start: 300_000, end: RUN_MS },
];

/** Deterministic inputs, generated before timing: ~log-normal latencies around 5 ms, 1% 503s, 0.1% timeouts. */
function inputs(): { startUs: Float64Array; latencyUs: Float64Array; status: (number | "timeout")[] } {
  let seed = 42;
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const startUs = new Float64Array(SAMPLES);
  const latencyUs = new Float64Array(SAMPLES);
  const status: (number | "timeout")[] = new Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    startUs[i] = (i * RUN_MS * 1000) / SAMPLES + rnd() * 500;
    const gauss = Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd());
    latencyUs[i] = 5_000 * Math.exp(0.6 * gauss);
    const r = rnd();
    status[i] = r < 0.001 ? "timeout" : r < 0.011 ? 503 : 200;
  }
  return { startUs, latencyUs, status };
}

type Sink = { record(sample: ClientSample): void };

function feed(sink: Sink, data: ReturnType<typeof inputs>): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < SAMPLES; i++) {
    sink.record({ startUs: data.startUs[i]!, latencyUs: data.latencyUs[i]!, status: data.status[i]! });
  }
  return Number(process.hrtime.bigint() - t0) / SAMPLES;
}

/** The same iteration and sample objects into a sink that does almost nothing (kept observable). */
class BaselineSink implements Sink {
  count = 0;
  sum = 0;
  record(sample: ClientSample): void {
    this.count++;
    this.sum += sample.latencyUs + (typeof sample.status === "number" ? sample.status : 0);
  }
}

function retainedBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external; // external already includes arrayBuffers (typed-array histograms)
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

function benchRecorder(): void {
  const data = inputs();
  const baseline: number[] = [];
  const recorder: number[] = [];
  // Alternate the two so drift on a busy machine hits both alike; the first round is warm-up.
  for (let round = 0; round < 6; round++) {
    const b = feed(new BaselineSink(), data);
    const r = feed(new ClientRecorder(WINDOWS), data);
    if (round > 0) {
      baseline.push(b);
      recorder.push(r);
    }
  }
  const b = median(baseline);
  const r = median(recorder);
  console.log(`record(): ${SAMPLES} samples, ${WINDOWS.length} windows, median of ${recorder.length} rounds`);
  console.log(`  baseline loop      ${b.toFixed(0).padStart(6)} ns/sample`);
  console.log(`  ClientRecorder     ${r.toFixed(0).padStart(6)} ns/sample   ratio ${(r / b).toFixed(1)}x   overhead ${(r - b).toFixed(0)} ns/sample`);
  console.log(`  at 1000 rps: ${(((r - b) * 1000) / 1e6).toFixed(3)} ms of CPU per second of load (${(((r - b) * 1000) / 1e9 * 100).toFixed(3)}% of a core)`);

  const before = retainedBytes();
  const kept = new ClientRecorder(WINDOWS);
  feed(kept, data);
  const recorderBytes = retainedBytes() - before;
  const t0 = performance.now();
  const stats = kept.stats();
  const statsMs = performance.now() - t0;

  const before2 = retainedBytes();
  const raw: ClientSample[] = [];
  feed({ record: (s) => raw.push(s) }, data);
  const rawBytes = retainedBytes() - before2;
  console.log(`memory after ${SAMPLES} samples over ${RUN_MS / 1000} s`);
  console.log(`  ClientRecorder     ${mb(recorderBytes).padStart(8)}   (${stats.timeline.length}-second timeline, ≤62 seconds open at once, ${WINDOWS.length} windows + total)`);
  console.log(`  per-request array  ${mb(rawBytes).padStart(8)}   ratio recorder/array ${(recorderBytes / rawBytes).toFixed(3)}`);
  console.log(`  stats(): ${statsMs.toFixed(0)} ms, JSON ${mb(JSON.stringify(stats).length)}; p50 ${stats.latencyUs.p50} µs, p99 ${stats.latencyUs.p99} µs`);
  // Keep both alive until measured.
  if (raw.length !== SAMPLES || stats.requests !== SAMPLES) throw new Error("bench lost samples");
}

async function benchLive(): Promise<void> {
  const server = http.createServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rate = 1000;
  const connections = 16;
  const requests = [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }];

  /** Process CPU (server included: it shares the process) and requests completed. */
  const measure = async (run: () => Promise<number>): Promise<{ cpuUs: number; requests: number }> => {
    const c0 = process.cpuUsage();
    const done = await run();
    const c = process.cpuUsage(c0);
    return { cpuUs: c.user + c.system, requests: done };
  };
  const bare = (seconds: number) =>
    measure(async () => {
      const result = await autocannon({ url, connections, overallRate: rate, duration: seconds, ignoreCoordinatedOmission: true });
      return result.requests.total;
    });
  const driven = (seconds: number) =>
    measure(async () => {
      const recorder = new ClientRecorder([{ name: "whole", ref: { kind: "whole" }, start: 0, end: seconds * 1000 }]);
      await runLoad({ url, rate, connections, durationMs: seconds * 1000, drainMs: 0, requests, recorder });
      return recorder.stats().requests;
    });

  // Two durations separate the per-run cost (instances, their histograms, the final
  // aggregation) from the cost of each further request.
  const [short, long] = [2, 6];
  const split = async (run: (s: number) => Promise<{ cpuUs: number; requests: number }>) => {
    const a = await run(short);
    const b = await run(long);
    const marginal = (b.cpuUs - a.cpuUs) / (b.requests - a.requests);
    return { marginal, fixedMs: (a.cpuUs - marginal * a.requests) / 1000, requests: b.requests };
  };
  await bare(1); // warm-up: JIT, WASM compilation, connection set-up paths
  await driven(1);
  const b = await split(bare);
  const d = await split(driven);
  server.closeAllConnections();
  server.close();
  console.log(`live: ${rate} rps, ${connections} connections, runs of ${short} s and ${long} s against a local server (process CPU, server included)`);
  const line = (name: string, x: typeof b) =>
    `  ${name.padEnd(17)}  ${x.marginal.toFixed(1).padStart(6)} µs CPU per request  + ${x.fixedMs.toFixed(0).padStart(4)} ms per run`;
  console.log(line("bare autocannon", b));
  console.log(`${line("runLoad", d)}   ratio per request ${(d.marginal / b.marginal).toFixed(2)}x`);
}

benchRecorder();
if (!process.argv.includes("--quick")) await benchLive();
