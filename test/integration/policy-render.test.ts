// Every policy field at once, rendered and loaded by the image's HAProxy 2.6 (`haproxy -c`), with
// policy.lua and faults.lua: the combinations the behavioural cases do not start one by one.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderHaproxySidecar } from "../../src/dataplane/haproxy/index.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET } from "../../src/plan/types.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { demuxBuffer } from "../../src/runtime/log-stream.js";
import type { ResolvedPolicy } from "../../src/scenario/types.js";
import { labelled, testDocker, testImage } from "./docker-env.js";
import { POLICY_RUN_PREFIX } from "./policy-harness.js";

const runId = `${POLICY_RUN_PREFIX}render-${process.pid.toString(36)}`;
const docker = testDocker();
const dirs: string[] = [];

afterAll(async () => {
  await cleanLeftovers(docker, runId);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
});

const full: ResolvedPolicy = {
  timeoutMs: 2000,
  retries: { attempts: 3, perTryTimeoutMs: 300, retryOn: ["5xx", "reset", "connect-failure", "timeout", "404", "429"], budget: { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 } },
  circuitBreaker: { maxConnections: 5, maxPending: 0 },
  outlierDetection: { consecutive5xx: 5, intervalMs: 1000, baseEjectionTimeMs: 10_000, maxEjectionPercent: 0.5 },
  loadBalancer: "least-request",
  healthCheck: { path: "/healthz?deep=1", intervalMs: 1000, unhealthyAfter: 2, healthyAfter: 1 },
  rateLimit: { requestsPerSecond: 12.5, burst: 3 },
};
const plain: ResolvedPolicy = { timeoutMs: 30_000, retries: null, circuitBreaker: null, outlierDetection: null, loadBalancer: "round-robin", healthCheck: null, rateLimit: null };

async function haproxyCheck(config: string): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), "mq-policy-render-"));
  dirs.push(dir);
  await writeFile(join(dir, "haproxy.cfg"), config);
  await chmod(dir, 0o755);
  const c = await docker.createContainer({
    name: `${runId}-check`,
    Image: await testImage(),
    User: "haproxy",
    Cmd: ["haproxy", "-c", "-f", "/etc/meshquake/haproxy.cfg"],
    Labels: { "meshquake.run-id": runId },
    HostConfig: { Binds: [`${dir}:/etc/meshquake:ro`], NetworkMode: "none" },
  });
  try {
    await c.start();
    const { StatusCode } = await c.wait();
    const output = demuxBuffer((await c.logs({ stdout: true, stderr: true })) as Buffer);
    return { code: StatusCode, output };
  } finally {
    await c.remove({ force: true });
  }
}

describe("rendered policy configs load in HAProxy 2.6", () => {
  it("accepts every policy field at once, next to a plain destination", async () => {
    const r = renderHaproxySidecar({
      service: { name: "checkout", replicas: 2, calls: ["payments", "ledger-db", "fraud"], latency: { minMs: 1, maxMs: 1 }, errorRate: 0, port: 8080, health: "/healthz" },
      index: 1,
      upstreams: [
        { service: "payments", replicas: [0, 1, 2].map((index) => ({ index, host: `payments-${index}`, port: POD_PORTS.inbound })), policy: full },
        { service: "ledger-db", replicas: [{ index: 0, host: "ledger-db-0", port: POD_PORTS.inbound }], policy: plain },
        // The same policy balanced by images/haproxy/ewma.lua.
        { service: "fraud", replicas: [0, 1].map((index) => ({ index, host: `fraud-${index}`, port: POD_PORTS.inbound })), policy: { ...full, loadBalancer: "peak-ewma" } },
      ],
      ports: { ...POD_PORTS, app: 8080 },
      adminSocket: SIDECAR_ADMIN_SOCKET,
      seed: 7,
      // The pod's own inbound rate limit.
      rateLimit: full.rateLimit,
    });
    const { code, output } = await haproxyCheck(r.files[0]!.content);
    expect(code, output).toBe(0);
    expect(output).toContain("Configuration file is valid");
    expect(r.files[0]!.content).toContain("lua.mq_ratelimit 12.5 3");
    expect(r.files[0]!.content).toContain("lua.mq_retry_after");
    console.log(`policy render: ${r.warnings.length} warnings for the full policy:\n  ${r.warnings.join("\n  ")}`);
  });
});
