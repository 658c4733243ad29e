import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../src/model/run-report.js";
import { EXAMPLE_REPORTS } from "../browser/paths.js";
import { labelled, testDocker, testImage } from "../integration/docker-env.js";
import { cli } from "./run-cli.js";


const readReport = async (out: string, name: string) => JSON.parse(await readFile(join(out, name, "report.json"), "utf8")) as RunReport;
const docker = testDocker();
const JUDGE_SCENARIO = `name: judge-me
seed: 3
services:
  frontend: { calls: [payments] }
  payments: { replicas: 2, latency: 1ms..2ms }
load: { target: frontend, rate: 40, duration: 4s }
checks:
  - slo: p(99) < 2s
    window: whole
`;

beforeAll(async () => {
  await testImage(); // build once, outside the timed runs
});

describe("meshquake CLI", () => {
  it("validate: a valid scenario exits 0, an invalid one exits 2 with located problems", async () => {
    const ok = await cli(["validate", "scenarios/demo.yaml"]);
    expect(ok.code).toBe(0);
    const bad = await cli(["validate", "fixtures/invalid/01-broken-yaml.yaml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^fixtures\/invalid\/01-broken-yaml\.yaml:\d+:\d+ /m);
    expect(bad.stderr).not.toMatch(/\bat .*\.ts:\d+/); // never a stack trace
  });

  it("plan: prints pods, the rendered sidecar config and the fault timeline without touching Docker", async () => {
    const r = await cli(["plan", "scenarios/demo.yaml"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("payments-2");
    expect(r.stdout).toMatch(/10000 ms\s+apply\s+payments-abort/);
    expect(r.stdout).toContain("frontend mq_inbound");
  });

  it("a passing scenario exits 0; report.json holds the run; nothing labelled remains", async () => {
    const out = EXAMPLE_REPORTS; // the browser suite opens these reports
    const r = await cli(["run", "scenarios/retries-hide-a-bad-replica.yaml", "--out", out, "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    const report = await readReport(out, "retries-hide-a-bad-replica");
    expect(report.schemaVersion).toBe(1);
    expect(report.verdict).toBe("passed");
    expect(report.checks.every((c) => c.status === "passed")).toBe(true);
    // 80 req/s for 15 s
    expect(report.client.requests).toBeGreaterThan(1000);
    expect(report.client.timeline.length).toBeGreaterThanOrEqual(14);
    // The fault hit payments[0] on every request it got while active, and checkout retried elsewhere.
    const [fault] = report.faults;
    expect(fault!.appliedAt).toBeGreaterThanOrEqual(4000);
    expect(fault!.observedPercent).toBe(1);
    const edge = report.edges.find((e) => e.from === "checkout" && e.to === "payments")!;
    expect(edge.retries).toBeGreaterThan(0);
    expect(edge.attempts).toBeGreaterThan(edge.requests);
    expect(await labelled(docker, report.runId)).toEqual({ containers: 0, networks: 0 });
  });

  it("judge: the recording judged again gives the run's own report, a tightened threshold flips it, a changed load is refused; without Docker", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mq-judge-"));
    const scenario = join(dir, "judge-me.yaml");
    await writeFile(scenario, JUDGE_SCENARIO);
    const out = join(dir, "out");
    const r = await cli(["run", scenario, "--out", out, "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    const recorded = await readFile(join(out, "judge-me", "report.json"), "utf8");
    // No engine: every judge below would fail at its first Docker call.
    const env = { DOCKER_HOST: `unix://${join(dir, "no-engine.sock")}` };

    const again = await cli(["judge", join(out, "judge-me"), "--out", join(dir, "again"), "--reporter", "json,console", "--quiet"], { env });
    expect(again.code, again.stderr).toBe(0);
    // --quiet: the verdict summary, and no list of the artefacts written.
    expect(again.stdout).toMatch(/^meshquake {2}judge-me {2}PASSED/);
    expect(again.stderr).toBe("");
    expect(await readFile(join(dir, "again", "judge-me", "report.json"), "utf8")).toBe(recorded);

    const tighter = join(dir, "tighter.yaml");
    await writeFile(tighter, JUDGE_SCENARIO.replace("p(99) < 2s", "p(99) < 1ms"));
    const flipped = await cli(["judge", join(out, "judge-me"), "--scenario", tighter, "--out", join(dir, "tighter")], { env });
    expect(flipped.code, flipped.stderr).toBe(1);
    const report = await readReport(join(dir, "tighter"), "judge-me");
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([["p(99) < 1ms @ whole", "failed"]]);
    expect(report.client.requests).toBe(JSON.parse(recorded).client.requests);

    const other = join(dir, "other.yaml");
    await writeFile(other, JUDGE_SCENARIO.replace("rate: 40", "rate: 41"));
    const refused = await cli(["judge", join(out, "judge-me"), "--scenario", other, "--out", join(dir, "other")], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/other\.yaml:\d+:\d+ .*load differs from the recorded run's/);
  });

  it("the demo fails its fault-window check because of its fault and exits 1", async () => {
    const out = EXAMPLE_REPORTS;
    const r = await cli(["run", "scenarios/demo.yaml", "--out", out]);
    expect(r.code, r.stderr).toBe(1);
    const report = await readReport(out, "demo");
    expect(report.verdict).toBe("failed");
    const byWindow = Object.fromEntries(report.checks.map((c) => [c.window, c]));
    expect(byWindow["baseline"]!.status).toBe("passed");
    expect(byWindow["fault:payments-abort"]!.status).toBe("failed");
    expect(byWindow["fault:payments-abort"]!.observed).toBeGreaterThan(0.01);
    // 50% configured: observed within a generous binomial band at the payments sidecars.
    expect(report.faults[0]!.observedPercent).toBeGreaterThan(0.4);
    expect(report.faults[0]!.observedPercent).toBeLessThan(0.6);
    expect(r.stdout).toContain("fault:payments-abort");
    expect(await labelled(docker, report.runId)).toEqual({ containers: 0, networks: 0 });
  });

  it("SIGINT in the middle of a run reverts, tears down and exits 130", async () => {
    const out = await mkdtemp(join(tmpdir(), "mq-e2e-"));
    let sent = false;
    const r = await cli(["run", "scenarios/retries-hide-a-bad-replica.yaml", "--out", out], {
      onStderr: (text, child) => {
        if (!sent && text.includes("load:")) {
          sent = true;
          // Mid-fault: the fault starts 4 s into the load.
          setTimeout(() => child.kill("SIGINT"), 5000);
        }
      },
    });
    expect(sent, r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    const runId = /building topology (\S+):/.exec(r.stderr)![1]!;
    expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
  });
});
