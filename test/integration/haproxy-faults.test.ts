// The HAProxy data plane against a real HAProxy 2.6 in Docker: one container holding the sidecar
// (config from render.ts, faults.lua from images/haproxy/) in front of a tiny app, plus three
// "ledger" replicas the outbound side routes to. Ports are published on 127.0.0.1 only.
// It measures what the report needs (switch latency, delay shift) and prints the numbers.
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_LIST_COMMAND, faultDie, haproxyDataPlane, parseFaultList, podSeed, renderHaproxySidecar } from "../../src/dataplane/haproxy/index.js";
import type { AccessLogEntry, AdminChannel, RuntimeFault } from "../../src/dataplane/types.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET, SIDECAR_DIR } from "../../src/plan/types.js";
import { unixAdminChannel } from "../../src/runtime/admin-channel.js";
import { SIDECAR_UID, SIDECAR_USER } from "../../src/dataplane/sidecar-user.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { followLogs, logTail } from "../../src/runtime/log-stream.js";
import { waitFor } from "../../src/runtime/wait-for.js";
import type { AbortFault, DelayFault, ResolvedPolicy, ResolvedService } from "../../src/scenario/types.js";
import { PROJECT_ROOT, labelled, testDocker, testImage } from "./docker-env.js";

/** The dev image (haproxy 2.6 + node) when present; otherwise the project's mesh image. */
const runId = `dev-h4-${process.pid}-${Date.now().toString(36)}`;
const SEED = 42;
const POD = "payments-0";
const docker = testDocker();

// The pod's app on 8080 (loopback only, as behind a real sidecar), and three ledger replicas:
// ledger-1 always answers 503, so the outbound side must retry it away.
const APP = `
const http = require("http");
http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ service: "payments", replica: 0, from: req.headers["x-mq-from"] || null }));
}).listen(8080, "127.0.0.1");
for (const [i, status] of [[0, 200], [1, 503], [2, 200]]) {
  http.createServer((req, res) => {
    res.statusCode = status;
    res.setHeader("x-replica", String(i));
    res.end(JSON.stringify({ service: "ledger", replica: i, from: req.headers["x-mq-from"], fromReplica: req.headers["x-mq-from-replica"] }));
  }).listen(17000 + i, "0.0.0.0");
}
`;

const ledgerPolicy: ResolvedPolicy = {
  timeoutMs: 2000,
  retries: { attempts: 3, perTryTimeoutMs: 500, retryOn: ["5xx", "connect-failure"], budget: null },
  circuitBreaker: null,
  outlierDetection: null,
  loadBalancer: "random",
  healthCheck: null, rateLimit: null,
};
const payments: ResolvedService = {
  name: "payments",
  replicas: 1,
  calls: ["ledger"],
  latency: { minMs: 0, maxMs: 0 },
  errorRate: 0,
  port: 8080,
  health: "/",
};
const rendering = renderHaproxySidecar({
  service: payments,
  index: 0,
  upstreams: [
    {
      service: "ledger",
      replicas: [0, 1, 2].map((index) => ({ index, host: `ledger-${index}`, port: 17000 + index })),
      policy: ledgerPolicy,
    },
  ],
  ports: { ...POD_PORTS, app: payments.port },
  adminSocket: SIDECAR_ADMIN_SOCKET,
  seed: SEED,
});

let container: Docker.Container;
let admin: AdminChannel;
let inboundUrl: string;
let outboundUrl: string;
let workDir: string;
let adminDir: string;
let logs: { stop(): void; done: Promise<void> } | null = null;
const lines: string[] = [];
const entries = () => lines.map((l) => haproxyDataPlane.parseLogLine(l)).filter((e): e is AccessLogEntry => e !== null);

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "mq-haproxy-"));
  await writeFile(join(workDir, "haproxy.cfg"), rendering.files[0]!.content);
  await writeFile(join(workDir, "app.js"), APP);
  // Readable by the sidecar's user; its admin socket goes in a directory of its own.
  await chmod(workDir, 0o755);
  adminDir = await mkdtemp(join(tmpdir(), "mq-haproxy-admin-"));
  await chown(adminDir, SIDECAR_UID, SIDECAR_UID);

  const image = process.env.MQ_HAPROXY_TEST_IMAGE ?? (await testImage());
  const network = runId;
  await docker.createNetwork({ Name: network, Labels: { "meshquake.run-id": runId }, Driver: "bridge" });
  const published = [POD_PORTS.outbound, POD_PORTS.inbound].map((p) => `${p}/tcp`);
  container = await docker.createContainer({
    name: `${runId}-sidecar`,
    Image: image,
    User: SIDECAR_USER,
    Cmd: ["sh", "-c", `node /srv/app.js & exec ${rendering.command.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(" ")}`],
    Labels: { "meshquake.run-id": runId },
    ExposedPorts: Object.fromEntries(published.map((p) => [p, {}])),
    HostConfig: {
      NetworkMode: network,
      Binds: [
        `${workDir}:/etc/meshquake:ro`,
        `${join(PROJECT_ROOT, "images/haproxy")}:/usr/local/lib/meshquake/haproxy:ro`,
        `${workDir}:/srv:ro`,
        `${adminDir}:${SIDECAR_DIR}`,
      ],
      PortBindings: Object.fromEntries(published.map((p) => [p, [{ HostIp: "127.0.0.1", HostPort: "" }]])),
    },
    // The replicas' names resolve through Docker's DNS, as on a run network.
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [POD, "ledger-0", "ledger-1", "ledger-2"] } } },
  });
  await container.start();
  logs = await followLogs(docker, container.id, (line, stream) => {
    if (stream === "stdout") lines.push(line);
  });
  const ports = (await container.inspect()).NetworkSettings.Ports;
  const hostPort = (p: number) => Number(ports[`${p}/tcp`]?.[0]?.HostPort);
  admin = unixAdminChannel(join(adminDir, "admin.sock"), haproxyDataPlane.admin);
  inboundUrl = `http://127.0.0.1:${hostPort(POD_PORTS.inbound)}`;
  outboundUrl = `http://127.0.0.1:${hostPort(POD_PORTS.outbound)}`;
  await waitFor(async () => (await get()).status === 200 && (await admin.send(FAULT_LIST_COMMAND)).startsWith("OK"), {
    what: `the sidecar answering on ${inboundUrl} and its runtime API`,
    timeoutMs: 20_000,
    intervalMs: 100,
    logTail: () => logTail(docker, container.id, 30),
  });
});

afterAll(async () => {
  agent.destroy();
  logs?.stop();
  await logs?.done;
  await cleanLeftovers(docker, runId);
  if (workDir) await rm(workDir, { recursive: true, force: true });
  if (adminDir) await rm(adminDir, { recursive: true, force: true });
  expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
});

interface Answer {
  status: number;
  fault: string | null;
  startedAt: number;
  endedAt: number;
  ms: number;
}

const agent = new http.Agent({ keepAlive: true });

/** GET / with exact headers (Host included), timed from send to the last body byte. */
function get(headers: Record<string, string> = {}, url = inboundUrl): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = http.get(`${url}/`, { headers, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => {
        const endedAt = performance.now();
        const fault = res.headers["x-mq-fault"];
        resolve({ status: res.statusCode ?? 0, fault: typeof fault === "string" ? fault : null, startedAt, endedAt, ms: endedAt - startedAt });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}/ took more than 10 s`)));
    req.on("error", reject);
  });
}

async function sequential(n: number, headers: Record<string, string> = {}): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let i = 0; i < n; i++) out.push(await get(headers));
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

const base = {
  target: "payments",
  replicas: [0],
  from: null,
  match: null,
  atMs: 0,
  durationMs: 60_000,
  location: { line: 1, col: 1 },
};
const abortFault = (name: string, probability: number, over: Partial<AbortFault> = {}): AbortFault => ({
  ...base,
  name,
  kind: "abort",
  status: 503,
  probability,
  ...over,
});
const delayFault = (name: string, ms: number): DelayFault => ({ ...base, name, kind: "delay", probability: 1, delay: { minMs: ms, maxMs: ms } });
const runtime = (fault: AbortFault | DelayFault, seed?: number, untilEpochMs = Date.now() + 60_000): RuntimeFault => ({ fault, untilEpochMs, seed });

describe("HAProxy sidecar in Docker", () => {
  it("accepts the rendered config (haproxy -c)", async () => {
    const exec = await container.exec({ Cmd: ["haproxy", "-c", "-f", "/etc/meshquake/haproxy.cfg"], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    await new Promise((r) => stream.on("end", r));
    const output = Buffer.concat(chunks).toString("utf8");
    expect((await exec.inspect()).ExitCode, output).toBe(0);
    expect(output).toContain("Configuration file is valid");
  });

  it("abort at 100%: every response is the status with x-mq-fault, and 200 again after fault del", async () => {
    const f = abortFault("abort-all", 1, { status: 418 });
    await haproxyDataPlane.applyFault(admin, runtime(f));
    const during = await sequential(20);
    expect(during.every((a) => a.status === 418 && a.fault === "abort-all")).toBe(true);
    await haproxyDataPlane.revertFault(admin, f);
    const after = await sequential(20);
    expect(after.every((a) => a.status === 200 && a.fault === null)).toBe(true);
    // Reverting again is fine: the fault is simply absent.
    await haproxyDataPlane.revertFault(admin, f);
  });

  it("abort at 50% with a seed: within binomial tolerance over 400 requests, exactly the predicted draws, replayable", async () => {
    const f = abortFault("abort-half", 0.5);
    const seed = 1234;
    const n = 400;
    await haproxyDataPlane.applyFault(admin, runtime(f, seed));
    const first = (await sequential(n)).map((a) => a.status === 503);
    const listed = parseFaultList(await admin.send(FAULT_LIST_COMMAND)).find((l) => l.name === f.name);
    await haproxyDataPlane.revertFault(admin, f);

    const hits = first.filter(Boolean).length;
    // 4σ of Binomial(400, 0.5) is 40.
    expect(Math.abs(hits - n / 2)).toBeLessThanOrEqual(4 * Math.sqrt(n * 0.25));
    expect(listed).toMatchObject({ seen: n, hits, state: "active" });
    // The proxy's die is the TypeScript mirror's: the same requests are hit.
    const die = faultDie(seed, podSeed(SEED, POD));
    expect(first).toEqual(Array.from({ length: n }, () => die() < 0.5));
    // A replay (same seed, same request order) draws the same sequence.
    await haproxyDataPlane.applyFault(admin, runtime(f, seed));
    const replay = (await sequential(100)).map((a) => a.status === 503);
    await haproxyDataPlane.revertFault(admin, f);
    expect(replay).toEqual(first.slice(0, 100));
    console.log(`abort 50%: ${hits}/${n} aborted (seed ${seed})`);
  });

  it("applies a fault only to the caller and header it names", async () => {
    const f = abortFault("abort-checkout", 1, { from: "checkout", match: { header: "x-user", value: "a b;c" } });
    await haproxyDataPlane.applyFault(admin, runtime(f));
    const outside = await get({ "x-user": "a b;c" });
    const otherCaller = await get({ "x-mq-from": "frontend", "x-user": "a b;c" });
    const otherValue = await get({ "x-mq-from": "checkout", "x-user": "zz" });
    const hit = await get({ "x-mq-from": "checkout", "x-user": "a b;c" });
    await haproxyDataPlane.revertFault(admin, f);
    expect([outside.status, otherCaller.status, otherValue.status, hit.status]).toEqual([200, 200, 200, 503]);
  });

  it("dead-man switch: a fault stops by itself at its end time, with no command", async () => {
    const f = abortFault("abort-deadman", 1);
    const untilEpochMs = Date.now() + 1500;
    await haproxyDataPlane.applyFault(admin, runtime(f, undefined, untilEpochMs));
    const seen: { at: number; status: number }[] = [];
    while (Date.now() < untilEpochMs + 1000) {
      const at = Date.now();
      const a = await get();
      seen.push({ at, status: a.status });
      await new Promise((r) => setTimeout(r, 5));
    }
    const before = seen.filter((s) => s.at < untilEpochMs - 20);
    const after = seen.filter((s) => s.at > untilEpochMs + 20);
    expect(before.length).toBeGreaterThan(10);
    expect(before.every((s) => s.status === 503)).toBe(true);
    expect(after.every((s) => s.status === 200)).toBe(true);
    const firstOk = seen.find((s) => s.status === 200)!;
    const lastAbort = [...seen].reverse().find((s) => s.status === 503)!;
    expect(parseFaultList(await admin.send(FAULT_LIST_COMMAND)).find((l) => l.name === f.name)?.state).toBe("expired");
    await haproxyDataPlane.revertFault(admin, f);
    console.log(`dead-man switch: last abort ${lastAbort.at - untilEpochMs} ms, first 200 +${firstOk.at - untilEpochMs} ms relative to until`);
  });

  it("delay 200 ms at 100% moves latency by about 200 ms, without blocking other requests", async () => {
    const baseline = median((await sequential(30)).map((a) => a.ms));
    const f = delayFault("slow", 200);
    await haproxyDataPlane.applyFault(admin, runtime(f));
    const delayed = await sequential(30);
    const t0 = performance.now();
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => get()));
    const concurrentMs = performance.now() - t0;
    await haproxyDataPlane.revertFault(admin, f);
    const shift = median(delayed.map((a) => a.ms)) - baseline;
    expect(delayed.every((a) => a.status === 200 && a.fault === "slow")).toBe(true);
    expect(shift).toBeGreaterThan(190);
    expect(shift).toBeLessThan(260);
    // core.msleep yields: ten delayed requests overlap instead of queueing.
    expect(concurrent.every((a) => a.status === 200)).toBe(true);
    expect(concurrentMs).toBeLessThan(600);
    console.log(
      `delay 200 ms: baseline p50 ${round(baseline)} ms, delayed p50 ${round(median(delayed.map((a) => a.ms)))} ms ` +
        `(shift ${round(shift)} ms), 10 concurrent delayed in ${round(concurrentMs)} ms`,
    );
  });

  it("switch latency: command sent → first response in the new state", async () => {
    const rounds = 5;
    const on: number[] = [];
    const off: number[] = [];
    const roundTrips: number[] = [];
    let stale = 0;
    let total = 0;
    const f = abortFault("switch", 1);
    for (let round = 0; round < rounds; round++) {
      for (const turnOn of [true, false]) {
        let stop = false;
        let sentAt = Number.POSITIVE_INFINITY;
        let returnedAt = Number.POSITIVE_INFINITY;
        const answers: Answer[] = [];
        const loops = Array.from({ length: 4 }, async () => {
          while (!stop) answers.push(await get());
        });
        await new Promise((r) => setTimeout(r, 100));
        sentAt = performance.now();
        if (turnOn) await haproxyDataPlane.applyFault(admin, runtime(f));
        else await haproxyDataPlane.revertFault(admin, f);
        returnedAt = performance.now();
        await new Promise((r) => setTimeout(r, 100));
        stop = true;
        await Promise.all(loops);
        const inNewState = (a: Answer) => (a.status === 503) === turnOn;
        const first = answers.filter((a) => a.endedAt >= sentAt && inNewState(a)).sort((a, b) => a.endedAt - b.endedAt)[0];
        expect(first, "no response in the new state").toBeDefined();
        (turnOn ? on : off).push(first!.endedAt - sentAt);
        roundTrips.push(returnedAt - sentAt);
        const startedAfter = answers.filter((a) => a.startedAt > returnedAt);
        total += startedAfter.length;
        stale += startedAfter.filter((a) => !inNewState(a)).length;
      }
    }
    expect(stale).toBe(0);
    expect(Math.max(...on, ...off)).toBeLessThan(100);
    console.log(
      `switch latency over ${rounds} rounds, 4 request loops: on p50 ${round(median(on))} ms (max ${round(Math.max(...on))}), ` +
        `off p50 ${round(median(off))} ms (max ${round(Math.max(...off))}); CLI round trip p50 ${round(median(roundTrips))} ms; ` +
        `${stale} of ${total} requests started after the reply saw the old state`,
    );
  });

  it("routes outbound by Host through the allow-list, retrying the bad replica away", async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => get({ host: "LEDGER:8080" }, outboundUrl)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const unknown = await get({ host: "payments-0" }, outboundUrl);
    expect(unknown.status).toBe(421);
  });

  it("logs one parseable JSON line per request on both frontends", async () => {
    await new Promise((r) => setTimeout(r, 300));
    const all = entries();
    const inbound = all.filter((e) => e.direction === "inbound");
    const outbound = all.filter((e) => e.direction === "outbound");
    expect(inbound.every((e) => e.pod === POD && e.route === "payments" && e.upstream === null)).toBe(true);
    const aborted = inbound.filter((e) => e.fault === "abort-all");
    expect(aborted.length).toBe(20);
    expect(aborted.every((e) => e.status === 418 && e.termination === "LR--")).toBe(true);
    expect(inbound.find((e) => e.from === "checkout" && e.status === 503)).toMatchObject({ fault: "abort-checkout" });
    const slow = inbound.filter((e) => e.fault === "slow");
    expect(slow.every((e) => e.durationMs >= 200 && e.status === 200)).toBe(true);
    const routed = outbound.filter((e) => e.route === "ledger");
    expect(routed).toHaveLength(30);
    expect(new Set(routed.map((e) => e.upstream))).toEqual(new Set(["ledger-0", "ledger-2"]));
    expect(routed.some((e) => e.retries > 0)).toBe(true);
    expect(routed.every((e) => e.from === "payments" && e.status === 200)).toBe(true);
    expect(outbound.find((e) => e.status === 421)).toMatchObject({ route: "payments-0", upstream: null, termination: "LR--" });
    // Every stdout line is an access-log entry, a per-try or policy event, or one of HAProxy's own messages.
    const other = lines.filter((l) => haproxyDataPlane.parseLogLine(l) === null && haproxyDataPlane.parseEventLine?.(l) == null);
    expect(other.every((l) => !l.startsWith("{"))).toBe(true);
    const acceptedAt = all.map((e) => e.ts);
    expect(Math.abs(Math.max(...acceptedAt) - Date.now())).toBeLessThan(30_000);
    console.log(`log: ${inbound.length} inbound and ${outbound.length} outbound entries; sample ${lines.find((l) => l.includes('"retries":"+'))}`);
  });

  it("answers a malformed command with ERR and the reason", async () => {
    expect(await admin.send("meshquake fault set x kind=nope pct=1 until=1")).toMatch(/^ERR kind=nope: expected one of abort, blackhole, delay, ratelimit, reset/);
    expect(await admin.send("meshquake fault set x kind=abort pct=1 until=1 status=503 colour=red")).toMatch(
      /^ERR unknown parameter for kind=abort: colour/,
    );
    expect(await admin.send("meshquake fault set x kind=abort pct=101 until=1 status=503")).toMatch(/^ERR pct=101/);
    expect(parseFaultList(await admin.send(FAULT_LIST_COMMAND)).map((l) => l.name)).not.toContain("x");
  });
});
