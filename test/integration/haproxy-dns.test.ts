// The outbound side finds replicas through Docker's embedded DNS, not only at start-up: a replica
// that goes away leaves rotation, and one recreated with a new address is found again, without
// a reload. Two "ledger" replica containers (started with testcontainers: plain containers under a
// DNS alias) and one sidecar (dockerode: its user, mounts and tmpfs) on a labelled run network.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHaproxySidecar } from "../../src/dataplane/haproxy/index.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET, SIDECAR_DIR } from "../../src/plan/types.js";
import { SIDECAR_UID, SIDECAR_USER } from "../../src/dataplane/sidecar-user.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { followLogs, logTail } from "../../src/runtime/log-stream.js";
import { waitFor } from "../../src/runtime/wait-for.js";
import { PROJECT_ROOT, labelled, testDocker, testImage } from "./docker-env.js";

const runId = `dev-h4-dns-${process.pid}-${Date.now().toString(36)}`;
const network = runId;
const labels = { "meshquake.run-id": runId };
const docker = testDocker();

const LEDGER = `require("http").createServer((q, s) => s.end(process.env.MQ_ID)).listen(17000, "0.0.0.0")`;

const rendering = renderHaproxySidecar({
  service: { name: "payments", replicas: 1, calls: ["ledger"], latency: { minMs: 0, maxMs: 0 }, errorRate: 0, port: 8080, health: "/" },
  index: 0,
  upstreams: [
    {
      service: "ledger",
      replicas: [0, 1].map((index) => ({ index, host: `ledger-${index}`, port: 17000 })),
      policy: { timeoutMs: 1000, retries: null, circuitBreaker: null, outlierDetection: null, loadBalancer: "round-robin", healthCheck: null, rateLimit: null },
    },
  ],
  ports: { ...POD_PORTS, app: 8080 },
  adminSocket: SIDECAR_ADMIN_SOCKET,
  seed: 1,
});

let image: string;
let workDir: string;
let outboundUrl: string;
let sidecar: Docker.Container;
let logs: { stop(): void; done: Promise<void> } | null = null;
const lines: string[] = [];

/** A plain replica on the run network under its DNS alias: what testcontainers says in one expression. */
function startLedger(index: number, id: string): Promise<StartedTestContainer> {
  return new GenericContainer(image)
    .withName(`${runId}-${id}`)
    .withCommand(["node", "-e", LEDGER])
    .withEnvironment({ MQ_ID: id })
    .withLabels(labels)
    .withNetworkMode(network)
    .withNetworkAliases(`ledger-${index}`)
    .start();
}

/** Which replica answered GET / through the outbound listener with Host: ledger, or the status. */
function callLedger(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${outboundUrl}/`, { headers: { host: "ledger:8080" }, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(res.statusCode === 200 ? body : `status ${res.statusCode}`));
    });
    req.on("timeout", () => req.destroy(new Error("GET took more than 5 s")));
    req.on("error", reject);
  });
}

async function answersFrom(n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await callLedger());
  return seen;
}

beforeAll(async () => {
  image = process.env.MQ_HAPROXY_TEST_IMAGE ?? (await testImage());
  workDir = await mkdtemp(join(tmpdir(), "mq-haproxy-dns-"));
  await writeFile(join(workDir, "haproxy.cfg"), rendering.files[0]!.content);
  await chmod(workDir, 0o755);
  await docker.createNetwork({ Name: network, Labels: labels, Driver: "bridge" });
  await startLedger(0, "ledger-0-a");
  await startLedger(1, "ledger-1-a");
  const port = `${POD_PORTS.outbound}/tcp`;
  sidecar = await docker.createContainer({
    name: `${runId}-sidecar`,
    Image: image,
    User: SIDECAR_USER,
    Cmd: rendering.command,
    Labels: labels,
    ExposedPorts: { [port]: {} },
    HostConfig: {
      NetworkMode: network,
      Binds: [`${workDir}:/etc/meshquake:ro`, `${join(PROJECT_ROOT, "images/haproxy")}:/usr/local/lib/meshquake/haproxy:ro`],
      // Where its admin socket goes (the topology mounts the pod's run directory there).
      Tmpfs: { [SIDECAR_DIR]: `uid=${SIDECAR_UID},gid=${SIDECAR_UID},mode=0700` },
      PortBindings: { [port]: [{ HostIp: "127.0.0.1", HostPort: "" }] },
    },
  });
  await sidecar.start();
  logs = await followLogs(docker, sidecar.id, (line, stream) => {
    if (stream === "stdout") lines.push(line);
  });
  outboundUrl = `http://127.0.0.1:${(await sidecar.inspect()).NetworkSettings.Ports[port]?.[0]?.HostPort}`;
  await waitFor(async () => (await answersFrom(4)).size === 2, {
    what: `both ledger replicas answering through ${outboundUrl}`,
    timeoutMs: 20_000,
    intervalMs: 100,
    logTail: () => logTail(docker, sidecar.id, 30),
  });
});

afterAll(async () => {
  logs?.stop();
  await logs?.done;
  await cleanLeftovers(docker, runId);
  if (workDir) await rm(workDir, { recursive: true, force: true });
  expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
});

describe("outbound replicas through Docker's DNS", () => {
  it("drops a replica that is gone and finds it again at its new address", async () => {
    expect(await answersFrom(4)).toEqual(new Set(["ledger-0-a", "ledger-1-a"]));

    await docker.getContainer(`${runId}-ledger-0-a`).remove({ force: true });
    // Take the freed address, so the recreated replica must get a new one.
    await new GenericContainer(image).withName(`${runId}-filler`).withCommand(["sleep", "300"]).withLabels(labels).withNetworkMode(network).start();
    const goneAt = Date.now();
    await waitFor(async () => [...(await answersFrom(6))].every((a) => a === "ledger-1-a"), {
      what: "ledger-0 leaving rotation after its container was removed",
      timeoutMs: 10_000,
      intervalMs: 100,
      logTail: () => logTail(docker, sidecar.id, 30),
    });
    const droppedMs = Date.now() - goneAt;

    await startLedger(0, "ledger-0-b");
    const backAt = Date.now();
    await waitFor(async () => (await answersFrom(4)).has("ledger-0-b"), {
      what: "the recreated ledger-0 found again through DNS",
      timeoutMs: 10_000,
      intervalMs: 50,
      logTail: () => logTail(docker, sidecar.id, 30),
    });
    const foundMs = Date.now() - backAt;

    await new Promise((r) => setTimeout(r, 200));
    expect(lines.some((l) => l.includes("mq_att_ledger_0/r0 is going DOWN for maintenance (DNS NX status)"))).toBe(true);
    expect(lines.some((l) => /mq_att_ledger_0\/r0 changed its IP from .* to /.test(l))).toBe(true);
    console.log(`DNS: removed replica out of rotation after ${droppedMs} ms; recreated replica found after ${foundMs} ms`);
  });
});
