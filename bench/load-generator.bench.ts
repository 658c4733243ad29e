// The open-loop generator measured as an instrument, every figure a comparison made in the same run.
//   npx tsx bench/load-generator.bench.ts            (--no-docker skips the topology part)
// 1. Accuracy: against a trivial local target (a Node http server in its own process, answering
//    "ok"), intended vs sent and the generator's lag at 100, 1,000 and 5,000 req/s.
// 2. Capacity: the highest rate the generator holds with lag p99 ≤ 1 ms and ≥ 99% sent, beside the
//    most that wrk (Debian's, closed-loop, 2 threads × 64 connections) gets from the same target in
//    the same run, as a ratio (goal ≥ 60%).
// 4. HTTP beside gRPC: the same open load at the same rates through each transport (undici to the
//    HTTP target; HTTP/2 streams to an h2c gRPC target answering OK), requests/s and the
//    generator's CPU per request (this process's, the generator thread's included) for both.
//    `--transports` runs this part alone.
// 3. Coordinated omission, for real: fixtures/load/pause-open-vs-closed.yaml (a 2 s freeze of the
//    only replica at 100 req/s) under the open model and under the closed one with 8 connections:
//    the whole run's p95 of each.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareOpenLoad, runOpenLoad } from "../src/load/open-driver.js";
import type { ClientSample } from "../src/observe/client-recorder.js";
import type { RequestTemplate } from "../src/scenario/types.js";

const GET: RequestTemplate[] = [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }];
const ROOT = join(import.meta.dirname, "..");

const TARGET = `
const http = require("node:http");
const s = http.createServer((req, res) => { res.writeHead(200, { "content-type": "text/plain", "content-length": "2" }); res.end("ok"); });
s.keepAliveTimeout = 60000;
s.listen(0, "127.0.0.1", () => console.log(s.address().port));
`;

async function startTarget(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", TARGET], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
    child.once("exit", (code) => reject(new Error(`target exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

interface OpenRun {
  rate: number;
  intended: number;
  sent: number;
  notSent: number;
  lagP50Us: number;
  lagP99Us: number;
  latencyP50Us: number;
  errors: number;
}

const quantile = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))] ?? 0;

async function openRun(url: string, rate: number, seconds: number): Promise<OpenRun> {
  const samples: ClientSample[] = [];
  await runOpenLoad({
    url,
    rate,
    durationMs: seconds * 1000,
    requests: GET,
    arrivals: "constant",
    seed: 1,
    maxInFlight: 10_000,
    timeoutMs: 5000,
    recorder: { record: (s) => samples.push(s) },
  });
  const lags = samples.filter((s) => s.sentUs !== undefined).map((s) => s.sentUs! - s.startUs).sort((a, b) => a - b);
  const latencies = samples.map((s) => s.latencyUs).sort((a, b) => a - b);
  return {
    rate,
    intended: samples.length,
    sent: lags.length,
    notSent: samples.filter((s) => s.status === "notSent").length,
    lagP50Us: quantile(lags, 0.5),
    lagP99Us: quantile(lags, 0.99),
    latencyP50Us: quantile(latencies, 0.5),
    errors: samples.filter((s) => s.status !== 200).length,
  };
}

const holds = (r: OpenRun): boolean => r.lagP99Us <= 1000 && r.sent >= 0.99 * r.intended && r.errors === 0;

function wrkMax(url: string, seconds: number): number {
  const out = execFileSync("wrk", ["-t2", "-c64", `-d${seconds}s`, url], { encoding: "utf8" });
  const m = out.match(/Requests\/sec:\s+([\d.]+)/);
  if (!m) throw new Error(`could not read wrk's output:\n${out}`);
  return Number(m[1]);
}

const fmtUs = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`);

async function accuracyAndCapacity(): Promise<void> {
  const { url, child } = await startTarget();
  try {
    await openRun(url, 2000, 1); // warm-up: JIT, connections
    console.log("1. accuracy against a trivial local target (5 s at each rate)");
    console.log("   rate      intended   sent       sent/intended   lag p50     lag p99     latency p50");
    for (const rate of [100, 1000, 5000]) {
      const r = await openRun(url, rate, 5);
      console.log(
        `   ${String(rate).padEnd(9)} ${String(r.intended).padEnd(10)} ${String(r.sent).padEnd(10)} ${((100 * r.sent) / r.intended).toFixed(2).padStart(6)}%         ` +
          `${fmtUs(r.lagP50Us).padEnd(11)} ${fmtUs(r.lagP99Us).padEnd(11)} ${fmtUs(r.latencyP50Us)}`,
      );
    }

    // From 2,000 req/s up by half each time until it no longer holds (or down by half until it
    // does), then halve the gap between the rate that held and the one that did not.
    let held = 0;
    let failed = 0;
    const tried: string[] = [];
    const attempt = async (rate: number): Promise<boolean> => {
      const r = await openRun(url, Math.round(rate), 3);
      const ok = holds(r);
      tried.push(`${Math.round(rate)}${ok ? "✓" : "✗"}(p99 ${fmtUs(r.lagP99Us)})`);
      return ok;
    };
    if (await attempt(2000)) {
      for (held = 2000; (failed = held * 1.5) < 200_000 && (await attempt(failed)); held = failed);
    } else {
      for (failed = 2000; (held = failed / 2) >= 50 && !(await attempt(held)); failed = held);
      if (held < 50) held = 0;
    }
    while (held > 0 && failed - held > Math.max(100, held * 0.05)) {
      const mid = (held + failed) / 2;
      if (await attempt(mid)) held = mid;
      else failed = mid;
    }
    const wrk = wrkMax(url, 5);
    console.log("");
    console.log("2. capacity: highest open-loop rate with lag p99 ≤ 1 ms and ≥ 99% sent, vs wrk's maximum on the same target");
    console.log(`   tried: ${tried.join(" ")}`);
    console.log(`   open generator   ${Math.round(held)} req/s`);
    console.log(`   wrk -t2 -c64     ${Math.round(wrk)} req/s (closed loop, no schedule to keep)`);
    console.log(`   ratio            ${((100 * held) / wrk).toFixed(0)}% of wrk (goal ≥ 60%)`);
  } finally {
    child.kill();
  }
}

async function coordinatedOmission(): Promise<void> {
  const { runScenario } = await import("../src/run/run-scenario.js");
  const { connectDocker } = await import("../src/runtime/docker.js");
  const { ensureImages } = await import("../src/runtime/images.js");
  const { cleanLeftovers } = await import("../src/runtime/clean.js");
  const { parseScenario } = await import("../src/scenario/load-scenario.js");
  const { docker, version } = await connectDocker();
  const { image } = await ensureImages(docker, { projectRoot: ROOT, log: () => {} });
  const path = "fixtures/load/pause-open-vs-closed.yaml";
  const text = await readFile(join(ROOT, path), "utf8");
  const p95 = async (variant: string, edit: (t: string) => string): Promise<{ p95Us: number; sent: number; intended: number }> => {
    const { scenario } = parseScenario(path, edit(text));
    const runId = `bench-co-${variant}-${process.pid.toString(36)}`;
    try {
      const report = await runScenario(scenario!, { docker, dockerVersion: version, image, log: () => {}, signal: new AbortController().signal, runId, toolVersion: "bench" });
      const check = report.checks.find((c) => c.expression?.startsWith("p(95)"));
      const freeze = report.load?.windows?.["fault:freeze"];
      return { p95Us: check?.observed ?? Number.NaN, sent: freeze?.sent ?? 0, intended: freeze?.intended ?? 0 };
    } finally {
      await cleanLeftovers(docker, runId);
    }
  };
  const open = await p95("open", (t) => t);
  const closed = await p95("closed", (t) => t.replace("model: open", "model: closed\n  connections: 8"));
  console.log("");
  console.log("3. a 2 s freeze of the only replica at 100 req/s (fixtures/load/pause-open-vs-closed.yaml), same run");
  console.log(`   open model              p95 ${fmtUs(open.p95Us).padEnd(10)} sent during the freeze ${open.sent} of ${open.intended}`);
  console.log(`   closed, 8 connections   p95 ${fmtUs(closed.p95Us).padEnd(10)} sent during the freeze ${closed.sent} of ${closed.intended}`);
  console.log(`   ratio                   ${(open.p95Us / closed.p95Us).toFixed(0)}× (the closed load hides the freeze: coordinated omission)`);
}

const GRPC_TARGET = `
const http2 = require("node:http2");
const s = http2.createServer();
const reply = Buffer.from([0, 0, 0, 0, 4, 0x0a, 0x02, 0x6f, 0x6b]);
s.on("stream", (stream) => {
  stream.on("error", () => {});
  stream.resume();
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(reply);
  });
});
s.listen(0, "127.0.0.1", () => console.log(s.address().port));
`;

async function transports(): Promise<void> {
  const proto = join(mkdtempSync(join(tmpdir(), "mq-bench-")), "bench.proto");
  writeFileSync(proto, 'syntax = "proto3"; package meshquake; service Fixture { rpc Call (CallRequest) returns (CallReply); } message CallRequest { string payload = 1; } message CallReply { string payload = 1; }');
  const http = await startTarget();
  const grpcChild = spawn(process.execPath, ["-e", GRPC_TARGET], { stdio: ["ignore", "pipe", "inherit"] });
  const grpcPort = await new Promise<string>((resolve) => grpcChild.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())));
  const grpc = { method: "meshquake.Fixture/Call", message: { payload: "hi" }, metadata: {}, protoFile: proto };
  const run = async (kind: "http" | "grpc", rate: number, seconds: number) => {
    const samples: ClientSample[] = [];
    const prepared = await prepareOpenLoad({
      url: kind === "http" ? http.url : `http://127.0.0.1:${grpcPort}`,
      rate,
      durationMs: seconds * 1000,
      requests: kind === "http" ? GET : [{ method: "POST", path: "/meshquake.Fixture/Call", headers: {}, body: null, weight: 1 }],
      grpc: kind === "grpc" ? grpc : null,
      arrivals: "constant",
      seed: 1,
      maxInFlight: 10_000,
      timeoutMs: 5000,
      recorder: { record: (x) => samples.push(x) },
    });
    // From the start of load: the thread's boot and warm-up are not the transport's cost.
    const before = process.cpuUsage();
    const result = await prepared.start();
    const cpu = process.cpuUsage(before);
    const ok = samples.filter((x) => x.status === 200 || x.status === "OK").length;
    const lags = samples.filter((x) => x.sentUs !== undefined).map((x) => x.sentUs! - x.startUs).sort((a, b) => a - b);
    return { ok, total: samples.length, connections: result.connections, cpuPerRequestUs: (cpu.user + cpu.system) / Math.max(1, samples.length), lagP99Us: quantile(lags, 0.99), seconds };
  };
  try {
    await run("http", 2000, 1);
    await run("grpc", 2000, 1);
    console.log("");
    console.log("4. HTTP/1.1 (undici) beside gRPC (HTTP/2 streams), same local targets, 3 s at each rate");
    console.log("   rate     transport  ok req/s   connections  CPU/request  lag p99");
    for (const rate of [1000, 4000]) {
      for (const kind of ["http", "grpc"] as const) {
        const r = await run(kind, rate, 3);
        console.log(
          `   ${String(rate).padEnd(8)} ${kind.padEnd(10)} ${String(Math.round(r.ok / r.seconds)).padEnd(10)} ${String(r.connections).padEnd(12)} ` +
            `${fmtUs(r.cpuPerRequestUs).padEnd(12)} ${fmtUs(r.lagP99Us)}${r.ok < r.total ? `  (${r.total - r.ok} not OK)` : ""}`,
        );
      }
    }
  } finally {
    http.child.kill();
    grpcChild.kill();
  }
}

if (process.argv.includes("--transports")) await transports();
else {
  await accuracyAndCapacity();
  await transports();
  if (!process.argv.includes("--no-docker")) await coordinatedOmission();
}
