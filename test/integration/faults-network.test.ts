// Network faults in the pods' namespaces on a real meshed topology: partitions (iptables DROP by
// the peer pod's address, both directions or one) and bandwidth (tbf on the pod's interface),
// installed by images/pod/fault.sh through the proxy container. Also: a harness killed with
// SIGKILL mid-fault, whose faults still end on schedule through their dead-man switches.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_LIST_COMMAND, parseFaultList } from "../../src/dataplane/haproxy/faults.js";
import { asSidecar } from "../../src/dataplane/sidecar-user.js";
import { FaultScheduler } from "../../src/faults/scheduler.js";
import { FAULT_SCRIPT, execIn, execOk } from "../../src/faults/pod-exec.js";
import { networkFaultId } from "../../src/faults/network-injectors.js";
import { faultRecords } from "../../src/observe/mesh-stats.js";
import { planTimeline } from "../../src/plan/windows.js";
import type { FaultRecord } from "../../src/model/run-report.js";
import type { ResolvedFault, ResolvedScenario } from "../../src/scenario/types.js";
import { logTail } from "../../src/runtime/log-stream.js";
import { PROJECT_ROOT } from "./docker-env.js";
import { destroyAgent, get, inboundAt, loops, percentile, round1, settleLogs, sleep, startMesh, type Answer, type Mesh } from "./faults-kit.js";

const SCENARIO = `
name: faults-network
seed: 3
services:
  frontend: { calls: [checkout] }
  checkout: { calls: [payments] }
  payments: { replicas: 3 }
  blob: {}
policies:
  payments:
    timeout: 3s
    retries: { attempts: 3, perTryTimeout: 200ms, retryOn: [connect-failure, timeout, 5xx, reset] }
load: { target: frontend, rate: 10, duration: 300s }
faults:
  - { name: split, kind: partition, between: [checkout, "payments[1]"] }
  - { name: oneway-split, kind: partition, between: [checkout, "payments[1]"], direction: oneway }
  - { name: narrow, kind: bandwidth, target: blob, rate: 4mbit }
  - { name: dm-split, kind: partition, between: [checkout, "payments[2]"] }
  - { name: dm-abort, kind: abort, target: payments, replicas: [0], status: 503 }
  - { name: dm-narrow, kind: bandwidth, target: blob, rate: 1mbit }
`;

/** blob's app: 512 KiB for any path but the health path. */
const BLOB_BYTES = 512 * 1024;
const BLOB_APP = [
  "node",
  "-e",
  `const body = Buffer.alloc(${BLOB_BYTES}, 120);
   require("http").createServer((req, res) => {
     if (req.url === "/healthz") return res.end("{}");
     res.writeHead(200, { "content-length": body.length, "content-type": "application/octet-stream" });
     res.end(body);
   }).listen(Number(process.env.MQ_PORT || 8080));`,
];

let mesh: Mesh;
let url: string;

beforeAll(async () => {
  mesh = await startMesh("net", SCENARIO, { "blob-0": BLOB_APP });
  url = `${mesh.topology.ingressUrl}/`;
});

afterAll(async () => {
  destroyAgent();
  await mesh?.close();
});

const timed = (name: string, atMs = 0, durationMs = 60_000): ResolvedFault => ({ ...mesh.fault(name), atMs, durationMs });

async function play(faults: ResolvedFault[], body: (s: FaultScheduler) => Promise<void>): Promise<FaultRecord[]> {
  const startedAt = Date.now();
  const scheduler = new FaultScheduler({
    faults,
    timeline: planTimeline({ faults } as ResolvedScenario),
    pods: mesh.topology.pods,
    dataPlane: mesh.ctx.dataPlane,
    docker: mesh.ctx.docker,
    network: mesh.ctx.network,
    loadStartEpochMs: startedAt,
  });
  const playing = scheduler.play();
  try {
    await body(scheduler);
  } finally {
    await scheduler.revertAll();
    await playing;
  }
  await settleLogs();
  return faultRecords({ ...mesh.scenario, faults }, scheduler.records(), { entries: mesh.entries, loadStartEpochMs: startedAt });
}

async function whenApplied(s: FaultScheduler, name: string): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const t = s.records().find((r) => r.name === name)!;
    if (t.error) throw new Error(t.error);
    if (t.appliedAt !== null) return t.appliedAt;
    await sleep(5);
  }
  throw new Error(`fault ${name} was not applied within 5 s`);
}

/** Runs node in a pod's proxy container as the sidecar's uid, whose traffic the interception lets through. */
const AS_SIDECAR = asSidecar(["node", "-e"]);

/** A TCP connect from a pod's proxy container (as the sidecar's uid: not intercepted) to host:port. */
async function connectFrom(podId: string, host: string, port: number): Promise<string> {
  const script = `const s = require("net").connect(${port}, "${host}");
    s.setTimeout(700, () => { console.log("timeout"); process.exit(0); });
    s.on("connect", () => { console.log("connected"); process.exit(0); });
    s.on("error", (e) => { console.log(e.code); process.exit(0); });`;
  return (await execOk(mesh.ctx.docker, mesh.pod(podId).ids.proxy, `${podId}: connect`, [...AS_SIDECAR, script])).trim();
}

/** GET blob-0's inbound listener from frontend-0's proxy container: the response leaves blob-0 through its eth0. */
async function fetchBlob(): Promise<{ ms: number; bytes: number }> {
  const script = `const t = Date.now();
    require("http").get("http://blob-0:15006/big", (r) => { let n = 0; r.on("data", (c) => (n += c.length));
      r.on("end", () => console.log(JSON.stringify({ ms: Date.now() - t, bytes: n }))); });`;
  return JSON.parse(await execOk(mesh.ctx.docker, mesh.pod("frontend-0").ids.proxy, "frontend-0: fetch blob", [...AS_SIDECAR, script]));
}

async function installed(podId: string): Promise<string[]> {
  return (await execOk(mesh.ctx.docker, mesh.pod(podId).ids.proxy, `${podId}: list`, ["sh", FAULT_SCRIPT, "list"])).split("\n").filter(Boolean);
}

describe("network faults in the pods' namespaces, on a real mesh", () => {
  it("a partition between checkout and payments[1] sends all of checkout's traffic to the other replicas", async () => {
    let during: Answer[] = [];
    let window = { from: 0, to: 0 };
    const [record] = await play([timed("split")], async (s) => {
      window.from = await whenApplied(s, "split");
      const l = loops(4, url);
      await sleep(2000);
      during = await l.stop();
      window.to = Date.now();
    });
    const after = loops(4, url);
    await sleep(1000);
    await after.stop();
    await settleLogs();
    const reached = (pod: string, w: { from: number; to: number }) => inboundAt(mesh.entries, pod, w.from, w.to, "checkout").length;
    const counts = ["payments-0", "payments-1", "payments-2"].map((p) => reached(p, window));
    console.log(
      `partition checkout ↔ payments[1]: ${during.length} requests, ${during.filter((a) => a.status === 200).length} answered 200, ` +
        `p50 ${round1(percentile(during.map((a) => a.ms), 50))} ms p99 ${round1(percentile(during.map((a) => a.ms), 99))} ms; ` +
        `attempts reaching payments-0/1/2: ${counts.join("/")}; record ${JSON.stringify({ observedPercent: record!.observedPercent, eligible: record!.eligible, activationMs: record!.activationMs, landed: record!.landed })}`,
    );
    expect(during.every((a) => a.status === 200)).toBe(true);
    expect(counts[1]).toBe(0);
    expect(counts[0]! + counts[2]!).toBeGreaterThanOrEqual(during.length);
    // Only requests first routed to payments-1 paid for the connect timeout before going elsewhere.
    expect(mesh.entries.some((e) => e.pod === "checkout-0" && e.direction === "outbound" && e.retries > 0 && e.ts >= window.from)).toBe(true);
    expect(record).toMatchObject({ landed: true, observedBy: "partition", observedPercent: 1, revertedBy: "teardown" });
    expect(record!.evidence!.join(" ")).toMatch(/checkout-0: drops every packet to and from payments-1 \(\d+\.\d+\.\d+\.\d+\): 2 rules in chain MQF_/);
    // Healed: payments-1 serves checkout again, and no rule is left.
    expect(reached("payments-1", { from: window.to + 100, to: Date.now() })).toBeGreaterThan(0);
    expect(await installed("checkout-0")).toEqual([]);
  });

  it("a oneway partition blocks only the connections the first side opens", async () => {
    const [record] = await play([timed("oneway-split")], async (s) => {
      await whenApplied(s, "oneway-split");
      expect(await connectFrom("checkout-0", "payments-1", 15006)).toBe("timeout");
      expect(await connectFrom("payments-1", "checkout-0", 15006)).toBe("connected");
      expect(await connectFrom("checkout-0", "payments-0", 15006)).toBe("connected");
    });
    expect(await connectFrom("checkout-0", "payments-1", 15006)).toBe("connected");
    expect(record!.evidence!.join(" ")).toMatch(/drops the connections it opens to payments-1/);
  });

  it("bandwidth: tbf on blob-0's interface slows a 512 KiB response to the configured rate", async () => {
    const before = await fetchBlob();
    let limited = { ms: 0, bytes: 0 };
    const [record] = await play([timed("narrow")], async (s) => {
      await whenApplied(s, "narrow");
      limited = await fetchBlob();
    });
    const after = await fetchBlob();
    await settleLogs();
    const logged = mesh.entries.filter((e) => e.pod === "blob-0" && e.direction === "inbound" && e.from === null).map((e) => e.durationMs);
    const expectedMs = (BLOB_BYTES * 8) / 4_000_000 * 1000;
    console.log(
      `bandwidth 4mbit on blob-0: 512 KiB in ${before.ms} ms before, ${limited.ms} ms limited (${round1((BLOB_BYTES * 8) / limited.ms / 1000)} Mbit/s; ` +
        `${round1(expectedMs)} ms at exactly 4 Mbit/s), ${after.ms} ms after; blob-0's sidecar logged Ta ${logged.join(", ")} ms`,
    );
    expect([before.bytes, limited.bytes, after.bytes]).toEqual([BLOB_BYTES, BLOB_BYTES, BLOB_BYTES]);
    expect(limited.ms).toBeGreaterThanOrEqual(expectedMs * 0.8);
    expect(limited.ms).toBeLessThanOrEqual(expectedMs * 1.6);
    expect(before.ms).toBeLessThan(expectedMs / 5);
    expect(after.ms).toBeLessThan(expectedMs / 5);
    // blob-0's sidecar sees it too: handing the body to the kernel takes as long as the shaped
    // socket buffers take to drain (the rest of the transfer happens after its log line).
    expect(logged).toHaveLength(3);
    expect(logged[1]!).toBeGreaterThan(5 * Math.max(logged[0]!, logged[2]!, 10));
    expect(record).toMatchObject({ landed: true, observedBy: "installed" });
    expect(record!.evidence!.join(" ")).toMatch(/qdisc tbf .* rate 4Mbit/);
  });

  it("a harness killed with SIGKILL mid-fault: every fault still ends on schedule (dead-man switches)", async () => {
    const faults = [timed("dm-split"), timed("dm-abort"), timed("dm-narrow")];
    const startEpochMs = Date.now();
    // Room for the child to start and apply on a busy machine (it took over 2.5 s there while
    // other work ran), with half a second of faults still on after the kill.
    const untilEpochMs = startEpochMs + 5000;
    const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "test/integration/faults-sigkill-child.ts")], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        MQ_FAULT_CHILD: JSON.stringify({
          pods: mesh.topology.pods.map(({ admin: _admin, ...p }) => p),
          network: mesh.ctx.network,
          faults,
          startEpochMs,
          untilEpochMs,
        }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code)));
    for (let i = 0; i < 180 && !out.includes("applied\n"); i++) {
      if (child.exitCode !== null) break;
      await sleep(25);
    }
    expect(out, err).toContain("applied\n");
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const killedAt = Date.now();
    expect(killedAt).toBeLessThan(untilEpochMs - 500);

    // Everything is still on after the harness is gone.
    const splitId = networkFaultId("dm-split");
    const narrowId = networkFaultId("dm-narrow");
    expect(await installed("checkout-0")).toEqual([splitId]);
    expect(await installed("blob-0")).toEqual([narrowId]);
    expect(parseFaultList(await mesh.pod("payments-0").admin.send(FAULT_LIST_COMMAND)).find((f) => f.name === "dm-abort")?.state).toBe("active");

    // Traffic through payments-0 while its abort runs out.
    const l = loops(3, url);
    await sleep(untilEpochMs - Date.now() + 500);
    const answers = await l.stop();
    await settleLogs();
    // Each dead-man timer notes in its proxy container's log when it removed its fault.
    const removedAt = async (pod: string, id: string) => {
      const tail = await logTail(mesh.ctx.docker, mesh.pod(pod).ids.proxy, 50);
      const m = tail.map((line) => new RegExp(`fault ${id} reached its end and was removed by its dead-man timer at (\\d+)`).exec(line)).find(Boolean);
      return m ? Number(m[1]) : null;
    };
    const partitionGone = await removedAt("checkout-0", splitId);
    const bandwidthGone = await removedAt("blob-0", narrowId);
    const chains = await execIn(mesh.ctx.docker, mesh.pod("checkout-0").ids.proxy, ["iptables", "-S"]);
    const qdisc = await execIn(mesh.ctx.docker, mesh.pod("blob-0").ids.proxy, ["tc", "qdisc", "show", "dev", "eth0", "root"]);
    const abortLog = mesh.entries.filter((e) => e.pod === "payments-0" && e.direction === "inbound" && e.ts >= killedAt);
    const lastAborted = Math.max(...abortLog.filter((e) => e.fault === "dm-abort").map((e) => e.ts));
    const cleanAfter = abortLog.filter((e) => e.fault === null && e.ts >= untilEpochMs).length;
    const lateBy = (t: number | null) => (t === null ? "never" : `${t - untilEpochMs >= 0 ? "+" : ""}${t - untilEpochMs} ms`);
    console.log(
      `SIGKILLed harness, faults scheduled to end ${untilEpochMs - killedAt} ms after the kill, relative to that end: ` +
        `partition removed ${lateBy(partitionGone)}, bandwidth limit removed ${lateBy(bandwidthGone)} (dead-man timers), ` +
        `abort: last aborted request accepted ${lateBy(lastAborted)}, ${cleanAfter} clean requests at payments-0 after it; ` +
        `${answers.filter((a) => a.status === 200).length}/${answers.length} client requests 200`,
    );
    expect(partitionGone! - untilEpochMs).toBeGreaterThanOrEqual(0);
    expect(partitionGone! - untilEpochMs).toBeLessThan(500);
    expect(bandwidthGone! - untilEpochMs).toBeGreaterThanOrEqual(0);
    expect(bandwidthGone! - untilEpochMs).toBeLessThan(500);
    expect(chains.stdout).not.toContain("MQF_");
    expect(qdisc.stdout).not.toContain("tbf");
    expect(lastAborted).toBeLessThan(untilEpochMs);
    expect(cleanAfter).toBeGreaterThan(0);
    expect(parseFaultList(await mesh.pod("payments-0").admin.send(FAULT_LIST_COMMAND)).find((f) => f.name === "dm-abort")?.state).toBe("expired");
    expect((await get(url)).status).toBe(200);
  });
});
