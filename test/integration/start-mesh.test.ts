// startMesh, as a test suite uses it: a topology up without load, faults switched on and off by
// `inject` and through the Toxiproxy API (driven by toxiproxy-node-client), and nothing left
// behind once disposed — on the real engine, with the real sidecars.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Toxiproxy, type ICreateToxicBody, type Latency } from "toxiproxy-node-client";
import { describe, expect, it } from "vitest";
import { FaultInputError, startMesh } from "../../src/index.js";
import { labelled, testDocker, testImage } from "./docker-env.js";

const SCENARIO = `name: held-up
services:
  frontend: { replicas: 1, calls: [payments] }
  payments: { replicas: 2 }
load: { target: frontend, rate: 50, duration: 3s }
checks:
  - slo: error_rate < 5%
    window: whole
`;

/** Status and time (ms) of one request through the ingress. */
async function call(url: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const r = await fetch(url);
  await r.arrayBuffer();
  return { status: r.status, ms: performance.now() - t0 };
}

const statuses = async (url: string, n = 6) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call(url)).status);
  return out;
};

describe("startMesh", () => {
  it("holds a mesh up, injects and reverts faults (inject and Toxiproxy), refuses a bad fault with its words, runs the scenario's load on it, and leaves nothing when disposed", async () => {
    await testImage();
    const dir = await mkdtemp(join(tmpdir(), "mq-start-mesh-"));
    const file = join(dir, "held-up.yaml");
    await writeFile(file, SCENARIO);
    let runId = "";
    {
      await using mesh = await startMesh(file);
      runId = mesh.runId;
      expect(mesh.ingressUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(mesh.pods).toEqual(["frontend-0", "payments-0", "payments-1"]);
      expect(await statuses(mesh.ingressUrl)).toEqual([200, 200, 200, 200, 200, 200]);

      // Each sidecar's stats page, read through its runtime API: frontend-0 routed those six calls to payments.
      const index = await (await fetch(`${mesh.statsUrl}/`)).text();
      expect(mesh.pods.every((p) => index.includes(`href="/${p}"`))).toBe(true);
      const page = await (await fetch(`${mesh.statsUrl}/frontend-0`)).text();
      expect(page).toContain("<th>2xx</th>");
      const csv = await (await fetch(`${mesh.statsUrl}/frontend-0.csv`)).text();
      const header = csv.split("\n")[0]!.slice(2).split(",");
      const routed = csv.split("\n").map((l) => l.split(",")).find((c) => c[0] === "payments" && c[1] === "BACKEND")!;
      expect(Number(routed[header.indexOf("hrsp_2xx")])).toBeGreaterThanOrEqual(6);
      expect((await fetch(`${mesh.statsUrl}/nope-0`)).status).toBe(404);

      // inject: the same fault a scenario would hold, on at once.
      const abort = await mesh.inject({ name: "payments-down", kind: "abort", target: "payments", percent: 100, status: 503 });
      expect(abort.timing.appliedAt).not.toBeNull();
      expect(new Set(await statuses(mesh.ingressUrl))).toEqual(new Set([502]));
      await abort.revert();
      expect(await statuses(mesh.ingressUrl)).toEqual([200, 200, 200, 200, 200, 200]);

      // A fault the scenario would refuse: thrown, typed, in validation's words.
      const refused = await mesh.inject({ name: "x", kind: "abort", target: "nope", percent: 100, status: 503 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(FaultInputError);
      expect((refused as FaultInputError).message).toContain('fault.target: unknown service "nope"');

      // Toxiproxy's API, through its own client: a latency toxic on payments, then removed.
      const toxiproxy = new Toxiproxy(mesh.toxiproxyUrl);
      const payments = await toxiproxy.get("payments");
      const before = (await call(mesh.ingressUrl)).ms;
      const toxic = await payments.addToxic({ name: "slow", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 300, jitter: 0 } } as ICreateToxicBody<Latency>);
      const slow = await call(mesh.ingressUrl);
      expect(slow.status).toBe(200);
      expect(slow.ms).toBeGreaterThanOrEqual(300);
      await toxic.remove();
      const after = await call(mesh.ingressUrl);
      expect(after.ms).toBeLessThan(300);
      expect(before).toBeLessThan(300);

      // The scenario's own load and checks on this mesh: a judged report, and the mesh still up.
      const report = await mesh.run();
      expect(report.checks.map((c) => c.reason)).toEqual([null]);
      expect(report).toMatchObject({ runId, verdict: "passed", exitCode: 0 });
      expect(report.client.requests).toBe(150);
      expect(report.edges.find((e) => e.from === "frontend" && e.to === "payments")?.requests).toBe(150);
      expect((await call(mesh.ingressUrl)).status).toBe(200);

      // Faults switched on while a run plays, by inject and through the Toxiproxy API, are among its faults.
      const served = async () => {
        const rows = (await (await fetch(`${mesh.statsUrl}/frontend-0.csv`)).text()).split("\n").map((l) => l.split(","));
        return Number(rows.find((c) => c[0] === "mq_inbound" && c[1] === "FRONTEND")![header.indexOf("req_tot")]);
      };
      const servedBefore = await served();
      const playing = mesh.run();
      // Once the load has reached the ingress (its stats page counts it), on a busy machine too.
      while ((await served()) < servedBefore + 40) await new Promise((r) => setTimeout(r, 100));
      const midRun = await mesh.inject({ name: "mid-run", kind: "abort", target: "payments", percent: 100, status: 503 });
      const lag = await payments.addToxic({ name: "lag", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 20, jitter: 0 } } as ICreateToxicBody<Latency>);
      await new Promise((r) => setTimeout(r, 1000));
      await midRun.revert();
      await lag.remove();
      const second = await playing;
      // The abort answered first, so the delay under it could not show: that check is not judged on it.
      expect(["failed", "inconclusive"]).toContain(second.verdict);
      const faults = new Map(second.faults.map((f) => [f.name, f]));
      expect([...faults.keys()]).toEqual(["mid-run", "toxiproxy-payments-lag"]);
      expect(faults.get("mid-run")!.affected).toBeGreaterThan(0);
      expect(faults.get("mid-run")!.scheduledAt).toBeGreaterThan(0);
      expect(second.attribution?.byFault["mid-run"]).toBeGreaterThan(0);

      // Left on: disposal reverts it before the topology goes.
      await mesh.inject({ name: "left-on", kind: "delay", target: "payments", percent: 100, delay: "50ms" });
    }
    expect(await labelled(testDocker(), runId)).toEqual({ containers: 0, networks: 0 });
  }, 180_000);
});
