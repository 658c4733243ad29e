// The resilience properties against real pods: each example scenario in scenarios/ passes as
// written, and a weaker policy — the same scenario with one line changed — makes the property it
// is about fail. A fault that never lands makes its checks inconclusive (exit 4), through the CLI
// with --repeat. Every failed client request is traced to a cause. Run ids start "dev-prop-";
// each test removes what it started, whatever happens.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CheckResult, RunReport } from "../../src/model/run-report.js";
import { runScenarioFile, runsOfThisFile } from "../integration/scenario-runs.js";
import { cli } from "./run-cli.js";

const runIds = runsOfThisFile();
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Runs scenarios/<file>, edited by `edit` when given (a weaker policy), under a dev-prop- run id. */
async function run(file: string, variant: string, edit?: (text: string) => string): Promise<RunReport> {
  const runId = `dev-prop-${variant}-${process.pid.toString(36)}`;
  runIds.push(runId);
  const report = await runScenarioFile(`scenarios/${file}`, runId, edit);
  const line = report.checks.map((c) => `${c.name}=${c.status}(${c.observed ?? "-"}${c.unit === "ms" ? "ms" : ""})`).join(" ");
  console.log(`${file} [${variant}]: ${line}; ${report.client.requests} requests, ${report.client.errors} failed`);
  return report;
}

const byName = (report: RunReport) => (prefix: string): CheckResult => {
  const found = report.checks.find((c) => c.name.startsWith(prefix));
  expect(found, `no check named "${prefix}…" in ${report.checks.map((c) => c.name).join(", ")}`).toBeDefined();
  return found!;
};

/** Every failed client request traced: as many attributed as failed, none left unexplained. */
function expectAttributed(report: RunReport): NonNullable<RunReport["attribution"]> {
  const a = report.attribution!;
  expect(a.failed).toBe(report.client.errors);
  expect(a.traced).toBe(a.failed);
  expect(a.byCause.unattributed ?? 0).toBe(0);
  expect(Object.values(a.byCause).reduce((s, n) => s + n, 0)).toBe(a.failed);
  return a;
}

describe("retry_budget and retry_amplification (scenarios/retry-budget-under-aborts.yaml)", () => {
  it("the budget bounds the retries under 50% aborts; every failure is put down to the abort", async () => {
    const report = await run("retry-budget-under-aborts.yaml", "as-written");
    expect(report.checks.map((c) => [c.name, c.status])).toEqual(report.checks.map((c) => [c.name, "passed"]));
    const check = byName(report);
    const budget = check("retry_budget");
    expect(budget.evidence).toMatchObject({ budget: { ratio: 0.2, minPerSecond: 5, windowMs: 2000 }, windowsOver: 0 });
    expect(check("retry_amplification checkout").observed).toBeLessThan(1.45);
    const a = expectAttributed(report);
    expect(a.failed).toBeGreaterThan(50);
    expect(Object.keys(a.byCause).every((c) => c === "retries-exhausted" || c === "retry-budget-exhausted")).toBe(true);
    expect(a.byFault).toEqual({ "payments-abort": a.failed });
  });

  it("without the budget, retry_budget fails and the tries grow as 1 + p + p² at p = 0.5", async () => {
    const report = await run("retry-budget-under-aborts.yaml", "no-budget", (t) => t.replace(", budget: { ratio: 0.2, minPerSecond: 5, window: 2s }", ""));
    const check = byName(report);
    expect(check("retry_budget").status).toBe("failed");
    expect(check("retry_budget").evidence.budgetSource).toMatch(/has no retry budget: judged against meshquake's default budget/);
    const amplification = check("retry_amplification checkout");
    expect(amplification.status).toBe("failed");
    expect(Math.abs(amplification.observed! - 1.75)).toBeLessThan(0.1);
    expect(check("retry_amplification fault:").status).toBe("failed");
  });
});

describe("ejection, failover and recovery (scenarios/ejection-failover-recovery.yaml)", () => {
  it("the dead replica leaves rotation in time, the client fails over, the mesh recovers", async () => {
    const report = await run("ejection-failover-recovery.yaml", "as-written");
    expect(report.checks.map((c) => [c.name, c.status])).toEqual(report.checks.map((c) => [c.name, "passed"]));
    const check = byName(report);
    const [caller] = check("ejection").evidence.callers as { caller: string; leaveMs: number; requestsAfterLeaving: number; backAfterFaultEndMs: number | null }[];
    expect(caller).toMatchObject({ caller: "checkout-0", requestsAfterLeaving: 0 });
    expect(caller!.leaveMs).toBeLessThan(1000);
    expect(caller!.backAfterFaultEndMs).not.toBeNull();
    expect(check("failover").observed).toBeLessThanOrEqual(1000);
    expect(check("recovery").observed).toBeLessThanOrEqual(1000);
    expectAttributed(report);
  });

  it("without outlier detection, ejection and failover fail", async () => {
    const report = await run("ejection-failover-recovery.yaml", "no-outlier", (t) => t.replace(/^ {4}outlierDetection: .*\n/m, ""));
    const check = byName(report);
    expect(check("ejection")).toMatchObject({ status: "failed", observed: null });
    expect(check("failover")).toMatchObject({ status: "failed", observed: null });
    expect(check("recovery").status).toBe("passed");
  });

  it("with every replica allowed out (maxEjectionPercent 100), the outage ejects them all and recovery fails", async () => {
    const report = await run("ejection-failover-recovery.yaml", "eject-all", (t) => t.replace("maxEjectionPercent: 50", "maxEjectionPercent: 100"));
    const check = byName(report);
    expect(check("recovery").status).toBe("failed");
    expect(expectAttributed(report).byCause["no-healthy-replica"]).toBeGreaterThan(100);
  });
});

describe("timeout_bound and isolation (scenarios/slow-payments-bulkhead.yaml)", () => {
  it("a 200 ms timeout bounds every call and keeps catalog's route whole while payments is slow", async () => {
    const report = await run("slow-payments-bulkhead.yaml", "as-written");
    expect(report.checks.map((c) => [c.name, c.status])).toEqual(report.checks.map((c) => [c.name, "passed"]));
    const check = byName(report);
    expect(check("isolation").evidence).toMatchObject({ route: "service catalog", during: { errors: 0 } });
    const a = expectAttributed(report);
    expect(a.byCause).toEqual({ "overall-timeout": a.failed });
    expect(a.byFault).toEqual({ "slow-payments": a.failed });
  });

  it("without the timeout, client requests outlive the bound and catalog is starved of traffic", async () => {
    const report = await run("slow-payments-bulkhead.yaml", "no-timeout", (t) => t.replace(/^policies:\n {2}payments:\n {4}timeout: 200ms\n/m, ""));
    const check = byName(report);
    expect(check("timeout_bound checkout").status).toBe("passed"); // its bound is now the default 30 s
    const client = report.checks.find((c) => c.name === "timeout_bound")!;
    expect(client.status).toBe("failed");
    expect(client.observed).toBeGreaterThan(1000);
    const isolation = check("isolation");
    expect(isolation.status).toBe("failed");
    expect(isolation.observed).toBeLessThan(0.8);
  });
});

describe("slow_replica_share (scenarios/slow-replica-peak-ewma.yaml)", () => {
  it("peak-ewma sends the 150 ms replica a small share of the calls and the client's p95 stays low", async () => {
    const report = await run("slow-replica-peak-ewma.yaml", "ewma-as-written");
    expect(report.checks.map((c) => [c.name, c.status])).toEqual(report.checks.map((c) => [c.name, "passed"]));
    const share = byName(report)("slow_replica_share");
    expect(share.evidence).toMatchObject({ slowed: ["payments-0"], fault: "payments-0-slow", loadBalancer: "peak-ewma" });
    expect(share.observed).toBeLessThan(0.05);
  });

  it("with round-robin, the slow replica keeps its third and both checks fail", async () => {
    const report = await run("slow-replica-peak-ewma.yaml", "ewma-round-robin", (t) => t.replace("loadBalancer: peak-ewma", "loadBalancer: round-robin"));
    const check = byName(report);
    expect(check("slow_replica_share").status).toBe("failed");
    expect(Math.abs(check("slow_replica_share").observed! - 1 / 3)).toBeLessThan(0.03);
    expect(check("p(95)").status).toBe("failed");
  });
});

const UNLANDED = `name: fault-that-never-lands
seed: 2
services:
  frontend: { calls: [checkout] }
  checkout: { calls: [payments] }
  payments: { replicas: 2 }
policies:
  payments: { retries: { attempts: 2, retryOn: [5xx] } }
load: { target: frontend, rate: 50, connections: 4, duration: 4s }
faults:
  - name: canary-abort          # only requests carrying x-canary: 1, and none does
    kind: abort
    target: payments
    match: { header: x-canary, value: "1" }
    at: 1s
    duration: 2s
checks:
  - property: failover
    fault: canary-abort
    within: 1s
    min: 90%
  - property: retry_budget
    edge: { from: checkout, to: payments }
`;

describe("a fault that did not land (CLI, --repeat 2)", () => {
  it("makes its property checks inconclusive, never passed: exit 4, with the reason, in every run", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mq-prop-"));
    dirs.push(dir);
    const file = join(dir, "unlanded.yaml");
    await writeFile(file, UNLANDED);
    const r = await cli(["run", file, "--repeat", "2", "--out", join(dir, "out"), "--reporter", "console,json"]);
    for (const m of r.stderr.matchAll(/building topology (\S+):/g)) runIds.push(m[1]!);
    expect(r.code, r.stderr).toBe(4);
    const report = JSON.parse(await readFile(join(dir, "out", "fault-that-never-lands", "report.json"), "utf8")) as RunReport;
    for (const c of report.checks) {
      expect(c.status).toBe("inconclusive");
      expect(c.reason).toMatch(/^fault canary-abort did not land: /);
      // What it would have said without the fault: a pass that proves nothing.
      expect(c.evidence.observedStatus).toBe("passed");
    }
    expect(report.repeat).toMatchObject({ runs: 2, quorum: 2, verdict: "inconclusive", exitCode: 4 });
    expect(report.repeat!.checks.map((c) => [c.passed, c.inconclusive, c.gate])).toEqual([
      [0, 2, "inconclusive"],
      [0, 2, "inconclusive"],
    ]);
    expect(r.stdout).toContain("repeat  2 runs, a check passes the gate when it passed in every run: INCONCLUSIVE  exit 4");
    const runs = await Promise.all([1, 2].map(async (i) => JSON.parse(await readFile(join(dir, "out", "fault-that-never-lands", "runs", `run-${i}.json`), "utf8")) as RunReport));
    expect(runs.map((x) => x.scenario.seed)).toEqual([2, 3]);
    // Each run's recording beside its report: judging the second gives the second run's own report.
    const judged = await cli(["judge", join(dir, "out", "fault-that-never-lands", "runs", "run-2.recording.ndjson.gz"), "--out", join(dir, "judged"), "--reporter", "json"]);
    expect(judged.code, judged.stderr).toBe(4);
    expect(await readFile(join(dir, "judged", "fault-that-never-lands", "report.json"), "utf8")).toBe(
      await readFile(join(dir, "out", "fault-that-never-lands", "runs", "run-2.json"), "utf8"),
    );
  });
});
