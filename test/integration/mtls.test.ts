// Mutual TLS between the sidecars on real Docker (docs/mtls.md): frontend → checkout (HTTP/1.1)
// → ledger (HTTP/2, health-checked), with mesh.mtls on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyDataPlane } from "../../src/dataplane/haproxy/index.js";
import { asSidecar } from "../../src/dataplane/sidecar-user.js";
import type { AccessLogEntry } from "../../src/dataplane/types.js";
import { buildPlan } from "../../src/plan/plan.js";
import { POD_PORTS } from "../../src/plan/types.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { execIn } from "../../src/runtime/exec.js";
import { startTopology, type StartedTopology } from "../../src/runtime/topology.js";
import { parseScenario } from "../../src/scenario/load-scenario.js";
import { labelled, testDocker, testImage } from "./docker-env.js";

const SCENARIO = `
name: mtls-test
mesh: { mtls: true }
services:
  frontend: { calls: [checkout] }
  checkout: { replicas: 2, calls: [ledger] }
  ledger: { protocol: http2 }
policies:
  ledger: { healthCheck: { interval: 500ms } }
load: { target: frontend, rate: 10, duration: 5s }
`;

const runId = `mq-itest-mtls-${process.pid}`;
let topology: StartedTopology;
const entries: AccessLogEntry[] = [];
const docker = testDocker();

beforeAll(async () => {
  const parsed = parseScenario("mtls-test.yaml", SCENARIO);
  expect(parsed.problems.filter((p) => p.severity === "error")).toEqual([]);
  const plan = buildPlan({ scenario: parsed.scenario!, runId, image: await testImage(), dataPlane: haproxyDataPlane });
  topology = await startTopology(docker, plan, {
    onSidecarLine: (_pod, line) => {
      const e = haproxyDataPlane.parseLogLine(line);
      if (e) entries.push(e);
    },
  });
});

afterAll(async () => {
  await topology?.stopLogs();
  await cleanLeftovers(docker, runId);
  expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
});

/** Runs node as the sidecar's uid in a pod's proxy container (its traffic passes the interception untouched). */
async function nodeInPod(pod: string, script: string): Promise<string> {
  const proxy = topology.pods.find((p) => p.plan.id === pod)!.ids.proxy;
  const r = await execIn(docker, proxy, asSidecar(["node", "-e", script]), 15_000);
  return `${r.stdout}${r.stderr}`.trim();
}

describe("mutual TLS between sidecars on real Docker", () => {
  it("requests cross the mesh, and each callee saw its caller's verified identity over TLS", async () => {
    // Until ledger's callers have seen it healthy (its sidecar answers checks before its app is up).
    const deadline = Date.now() + 20_000;
    for (let ok = 0; ok < 3 && Date.now() < deadline; ) {
      const r = await fetch(`${topology.ingressUrl}/`, { signal: AbortSignal.timeout(5000) });
      ok = r.status === 200 ? ok + 1 : 0;
      if (r.status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    const from = entries.length;
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${topology.ingressUrl}/`, { signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 500));
    const seen = entries.slice(from);
    const fromMesh = (route: string) => seen.filter((e) => e.direction === "inbound" && e.route === route && e.from !== null && !e.healthCheck);
    const checkout = fromMesh("checkout");
    const ledger = fromMesh("ledger");
    expect(checkout.length).toBeGreaterThanOrEqual(6);
    expect(ledger.length).toBeGreaterThanOrEqual(6);
    for (const e of checkout) expect(e).toMatchObject({ from: "frontend", tls: true, peer: "frontend", plaintextRefused: false, status: 200 });
    for (const e of ledger) expect(e).toMatchObject({ from: "checkout", tls: true, peer: "checkout", status: 200 });
    // The tries in the callers' sidecars, and their own requests, all succeeded.
    expect(seen.filter((e) => e.direction === "outbound").every((e) => e.status === 200)).toBe(true);
    // The load comes from outside the mesh, in plaintext, to the ingress.
    const ingress = seen.filter((e) => e.direction === "inbound" && e.route === "frontend");
    expect(ingress.length).toBeGreaterThanOrEqual(6);
    for (const e of ingress) expect(e).toMatchObject({ from: null, tls: false, peer: null });
    // Health checks of the HTTP/2 destination pass over the same TLS.
    // (Checks from before the app was up failed, in TLS too: the ones since all passed.)
    await new Promise((r) => setTimeout(r, 1200));
    const checks = entries.slice(from).filter((e) => e.direction === "inbound" && e.route === "ledger" && e.healthCheck);
    expect(checks.length).toBeGreaterThan(0);
    for (const e of checks) expect(e).toMatchObject({ tls: true, peer: "checkout", status: 200 });
  });

  it("refuses a plaintext request from the mesh on the callee's plaintext listener, and says so in its log", async () => {
    const out = await nodeInPod(
      "frontend-0",
      `fetch("http://checkout-0:${POD_PORTS.inbound}/", { headers: { "x-mq-from": "frontend", host: "checkout" } }).then(async (r) => console.log(r.status, r.headers.get("x-mq-plaintext-refused"), (await r.text()).trim()))`,
    );
    expect(out).toBe("403 1 meshquake: checkout takes calls from the mesh over mutual TLS only");
    await new Promise((r) => setTimeout(r, 300));
    expect(entries.some((e) => e.pod === "checkout-0" && e.direction === "inbound" && e.plaintextRefused === true && e.status === 403 && e.tls === false)).toBe(true);
  });

  it("the mTLS listener takes no plaintext and no client without a certificate from the run's CA", async () => {
    const plain = await nodeInPod(
      "frontend-0",
      `fetch("http://checkout-0:${POD_PORTS.mtlsInbound}/").then((r) => console.log("answered", r.status), (e) => console.log("failed", e.cause?.code ?? e.message))`,
    );
    expect(plain).toMatch(/^failed/);
    // A TLS client that trusts anything but shows no certificate: the handshake is refused.
    const anonymous = await nodeInPod(
      "frontend-0",
      `const s = require("tls").connect({ host: "checkout-0", port: ${POD_PORTS.mtlsInbound}, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] }, () => s.write("GET / HTTP/1.1\\r\\nhost: checkout\\r\\n\\r\\n"));
       let got = ""; s.on("data", (d) => (got += d)); s.on("error", (e) => console.log("refused", e.code ?? e.message)); s.on("close", () => console.log(got ? "answered " + got.split("\\r\\n")[0] : "closed"));`,
    );
    expect(anonymous).not.toMatch(/answered HTTP\/1.1 200/);
    expect(anonymous).toMatch(/refused|closed/);
  });
});
