// Versions, splits, routes and shifts against real pods. A header route sends every request that
// carries the header to the canary and none of the others (read from the fixture's own answer:
// which replica served the call); a shift changes every caller's split at once, at runtime, and its
// revert puts the old split back; and the must-show of a broken 10% canary: about 10% of the
// client's requests fail, about half once the split shifts to 50/50 (scenarios/
// canary-split-under-fault.yaml, whose SLOs pin 7–13% and 45–55%). About 45 s.
import { describe, expect, it } from "vitest";
import { startMesh } from "../../src/index.js";
import { runScenarioFile, runsOfThisFile } from "../integration/scenario-runs.js";
import { testImage } from "../integration/docker-env.js";

const runIds = runsOfThisFile();

/** Which payments replica served each of n calls through the ingress. */
async function servedBy(url: string, n: number, headers: Record<string, string> = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(url, { headers });
    const body = (await r.json()) as { calls?: { service: string; servedBy: string | null }[] };
    out.push(body.calls?.find((c) => c.service === "payments")?.servedBy ?? `status ${r.status}`);
  }
  return out;
}

const count = (served: string[]) => served.reduce<Record<string, number>>((m, s) => ((m[s] = (m[s] ?? 0) + 1), m), {});

describe("traffic management", () => {
  it("a header route sends every matching request to v2 and none of the others; a shift moves the split at runtime and back", async () => {
    await testImage();
    await using mesh = await startMesh("scenarios/header-canary.yaml");
    runIds.push(mesh.runId);
    // The split gives v2 (payments-2) nothing; x-canary: 1 routes to it.
    expect(count(await servedBy(mesh.ingressUrl, 30, { "x-canary": "1" }))).toEqual({ "payments-2": 30 });
    const plain = count(await servedBy(mesh.ingressUrl, 30));
    expect(plain["payments-2"]).toBeUndefined();
    expect((plain["payments-0"] ?? 0) + (plain["payments-1"] ?? 0)).toBe(30);

    // Everything to v2, at runtime, in the frontend's sidecar; then back to the policy's split.
    const shift = await mesh.inject({ name: "all-to-v2", kind: "shift", target: "payments", split: { v2: 100 } });
    expect(count(await servedBy(mesh.ingressUrl, 20))).toEqual({ "payments-2": 20 });
    await shift.revert();
    expect(count(await servedBy(mesh.ingressUrl, 20))["payments-2"]).toBeUndefined();
  });

  it("a broken 10% canary fails about 10% of the requests, about half after a shift to 50/50", async () => {
    const runId = `dev-traffic-split-${process.pid.toString(36)}`;
    runIds.push(runId);
    const report = await runScenarioFile("scenarios/canary-split-under-fault.yaml", runId);
    const observed = report.checks.map((c) => [c.name, c.status, c.observed]);
    console.log(`canary-split-under-fault: ${JSON.stringify(observed)}`);
    expect(report.checks.every((c) => c.status === "passed"), JSON.stringify(observed)).toBe(true);
    expect(report.replicas.filter((r) => r.service === "payments").map((r) => [r.index, r.version])).toEqual([
      [0, "v1"],
      [1, "v1"],
      [2, "v2"],
    ]);
    expect(report.faults.find((f) => f.name === "half")).toMatchObject({ kind: "shift", landed: true });
  });
});
