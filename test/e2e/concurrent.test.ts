// Two runs at once on one engine, and `meshquake clean` in the middle of them: neither run
// touches the other, and clean removes only what a gone harness left (here: a leftover whose
// owner process has exited), never a run that is still going on.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../src/model/run-report.js";
import { ownerLabels } from "../../src/runtime/owner.js";
import { labelled, testDocker, testImage } from "../integration/docker-env.js";
import { cli, type CliResult } from "./run-cli.js";

const docker = testDocker();
let dir: string;
let image: string;

const scenario = (name: string, status: number) => `name: ${name}
services:
  frontend: { calls: [payments] }
  payments: { replicas: 2 }
load: { target: frontend, rate: 30, connections: 3, duration: 8s }
faults:
  - { name: abort-all, kind: abort, target: payments, status: ${status}, at: 2s, duration: 2s }
checks:
  - { slo: error_rate < 50%, window: whole }
`;

beforeAll(async () => {
  image = await testImage();
  dir = await mkdtemp(join(tmpdir(), "mq-e2e-concurrent-"));
});

describe("two runs at once on one engine", () => {
  it("run side by side untouched, and clean in the middle removes only a gone harness's leftovers", async () => {
    // A leftover of a harness that is gone: its owner pid exited (a reused pid would not match its start time either).
    const gone = spawnSync("true").pid!;
    const orphanRun = `mq-hr-con-orphan-${Date.now().toString(36)}`;
    const orphan = await docker.createContainer({
      name: orphanRun,
      Image: image,
      Cmd: ["sleep", "60"],
      HostConfig: { NetworkMode: "none" },
      Labels: { "meshquake.run-id": orphanRun, "meshquake.role": "proxy", ...ownerLabels({ pid: gone, host: hostname(), started: "gone:1" }) },
    });
    await orphan.start();
    try {
      await twoRunsAndClean(orphanRun);
    } finally {
      await orphan.remove({ force: true }).catch(() => undefined);
    }
  });
});

/** Two runs at once, `meshquake clean` while both are up, then what each run saw. */
async function twoRunsAndClean(orphanRun: string): Promise<void> {

  const files = [join(dir, "hr-con-a.yaml"), join(dir, "hr-con-b.yaml")];
  await writeFile(files[0]!, scenario("hr-con-a", 503));
  await writeFile(files[1]!, scenario("hr-con-b", 429));
  let clean: Promise<CliResult> | null = null;
  const runs = files.map((file) => cli(["run", file, "--out", join(dir, "out"), "--quiet"]));
  // Clean once both runs have their apps up (they are then about to load, or loading).
  const deadline = Date.now() + 60_000;
  while (clean === null && Date.now() < deadline) {
    const apps = await docker.listContainers({ filters: { label: ["meshquake.role=app"] } });
    const scenarios = new Set(apps.map((c) => c.Labels["meshquake.scenario"]));
    if (scenarios.has("hr-con-a") && scenarios.has("hr-con-b")) clean = cli(["clean"]);
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (clean === null) {
    const outcomes = await Promise.all(runs);
    throw new Error(`the two runs were never up at once:\n${outcomes.map((r) => `exit ${r.code}\n${r.stderr}`).join("\n")}`);
  }
  const cleaned = await clean!;
  const [a, b] = await Promise.all(runs);

  expect(cleaned.code, cleaned.stderr).toBe(0);
  console.log(`clean while two runs were going on:\n  ${cleaned.stdout.trim().split("\n").join("\n  ")}`);
  expect(cleaned.stdout).toMatch(/kept mq-hr-con-a-[0-9a-f]+: its harness \(pid \d+\) is still running/);
  expect(cleaned.stdout).toMatch(/kept mq-hr-con-b-[0-9a-f]+: its harness \(pid \d+\) is still running/);
  expect(await labelled(docker, orphanRun)).toEqual({ containers: 0, networks: 0 });

  for (const [r, name, status, other] of [[a!, "hr-con-a", "503", "429"], [b!, "hr-con-b", "429", "503"]] as const) {
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(dir, "out", name, "report.json"), "utf8")) as RunReport;
    // Each run saw its own fault only (by its status at the caller's sidecar), and lost nothing to the other or to clean.
    expect(report.errors).toEqual([]);
    const edge = report.edges.find((e) => e.from === "frontend" && e.to === "payments")!;
    expect(Object.keys(edge.statusCounts)).toContain(status);
    expect(Object.keys(edge.statusCounts)).not.toContain(other);
    expect(report.faults[0]!.observedPercent).toBe(1);
    expect(report.client.requests).toBeGreaterThan(100);
    expect(await labelled(docker, report.runId)).toEqual({ containers: 0, networks: 0 });
  }
}
