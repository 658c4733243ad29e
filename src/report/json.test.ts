import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClientRecorder } from "../observe/client-recorder.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { buildReport } from "./build-report.js";
import { fixtures } from "./fixtures/index.js";
import { parseReport, readReport, ReportFormatError, reportPath, serializeReport, writeReport } from "./json.js";
import type { RunReport } from "../model/run-report.js";

const scenario: ResolvedScenario = {
  name: "checkout-survives",
  description: "d",
  seed: 7,
  dataPlane: "haproxy",
  source: { file: "s.yaml", text: "name: checkout-survives\n" },
  services: [],
  policies: {},
  load: { target: "frontend", rate: 10, model: "closed", arrivals: "constant", connections: 1, maxInFlight: 1, timeoutMs: 10_000, maxLagMs: 10, durationMs: 2000, protocol: "http", requests: [], grpc: null },
  faults: [],
  checks: [],
};

function report(): RunReport {
  const recorder = new ClientRecorder([{ name: "whole", ref: { kind: "whole" }, start: 0, end: 2000 }]);
  for (const status of [503, 200, "timeout", 200] as const) recorder.record({ startUs: 1500, latencyUs: 12_345, status });
  return buildReport({
    runId: "mq-json",
    toolVersion: "0.1.0",
    startedAt: "2025-01-02T03:04:05.000Z",
    scenario,
    checks: [],
    windows: [{ name: "whole", start: 0, end: 2000 }],
    faults: [],
    client: recorder.stats(),
    edges: [],
    replicas: [],
    errors: [],
    warnings: [],
    timings: { setupMs: 1, runMs: 2, teardownMs: 3 },
    environment: { node: "v20", platform: "linux-x64", docker: null, dataPlane: "haproxy", image: null },
  });
}

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "meshquake-json-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("report.json", () => {
  it("writes <out>/<scenario>/report.json and reads back the same report", async () => {
    const original = report();
    const file = await writeReport(original, dir);
    expect(file).toBe(path.join(dir, "checkout-survives", "report.json"));
    expect(reportPath(dir, "checkout-survives")).toBe(file);
    expect(await readReport(file)).toEqual(original);
  });

  it("serializes with a stable key order whatever order the report was built in", () => {
    const a = report();
    const reversed = Object.fromEntries(Object.entries(a).reverse()) as unknown as RunReport;
    reversed.client = Object.fromEntries(Object.entries(a.client).reverse()) as unknown as RunReport["client"];
    const text = serializeReport(a);
    expect(serializeReport(reversed)).toBe(text);
    expect(Object.keys(JSON.parse(text)).slice(0, 6)).toEqual(["schemaVersion", "tool", "runId", "startedAt", "verdict", "exitCode"]);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "schemaVersion": 1,\n');
  });

  it("refuses a report of another schema version, saying which it reads", async () => {
    const file = path.join(dir, "old.json");
    await writeFile(file, JSON.stringify({ ...report(), schemaVersion: 2, tool: { name: "meshquake", version: "9.0.0" } }));
    await expect(readReport(file)).rejects.toThrow(
      `${file} has schemaVersion 2 (written by meshquake 9.0.0); this meshquake reads schemaVersion 1 only`,
    );
    await expect(readReport(file)).rejects.toBeInstanceOf(ReportFormatError);
  });

  it("says why a file is not a report at all", () => {
    expect(() => parseReport("{not json", "r.json")).toThrow(/^r.json is not valid JSON: /);
    expect(() => parseReport("[]", "r.json")).toThrow("r.json is not a meshquake report: expected a JSON object, found an array");
    expect(() => parseReport("{}", "r.json")).toThrow("r.json is not a meshquake report: it has no schemaVersion");
  });

  it("lists every missing or mistyped field at once, each located in the file", () => {
    const broken: Record<string, unknown> = { ...report() };
    delete broken.checks;
    broken.verdict = "maybe";
    const text = JSON.stringify(broken, null, 2);
    const line = (needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;
    expect(() => parseReport(text, "r.json")).toThrow(
      "r.json is not a valid schemaVersion 1 report:\n" +
        `r.json:${line('"verdict"')}:14 verdict: expected one of "passed", "failed", "inconclusive", "error", found "maybe"\n` +
        'r.json:1:1 (top level): missing required key "checks"',
    );
  });

  it("reads each fault kind's attributes as that kind has them, and refuses others located", () => {
    const withFault = (fault: Record<string, unknown>) => {
      const r = fixtures.failing();
      const base = r.scenario.faults[0]!;
      return JSON.stringify({ ...r, scenario: { ...r.scenario, faults: [{ ...base, ...fault }] } }, null, 2);
    };
    const between = [{ service: "checkout", replica: null }, { service: "payments", replica: 1 }];
    const partition = { kind: "partition", status: undefined, attributes: { between, direction: "oneway" } };
    expect(parseReport(withFault(partition), "r.json").scenario.faults[0]).toMatchObject({ kind: "partition", attributes: { between, direction: "oneway" } });
    expect(() => parseReport(withFault({ ...partition, attributes: { between } }), "r.json")).toThrow(/scenario\.faults\[0\]\.attributes: missing required key "direction"/);
    expect(() => parseReport(withFault({ kind: "kill", status: undefined, attributes: { restart: "yes" } }), "r.json")).toThrow(
      /scenario\.faults\[0\]\.attributes\.restart: /,
    );
  });

  it("checks what the reporters read deep inside, not only the top level", () => {
    const r = report();
    const hostile = JSON.parse(JSON.stringify(r)) as Record<string, any>;
    hostile.scenario.name = "..";
    hostile.client.latencyUs = { p50: "fast" };
    hostile.warnings = [42];
    expect(() => parseReport(JSON.stringify(hostile, null, 2), "r.json")).toThrow(
      /scenario\.name: expected a scenario name \(\[a-z0-9-\], at most 63 characters\), found "\.\."\n.*client\.latencyUs\.p50: expected a number, found "fast"[\s\S]*warnings\[0\]: expected a string, found 42/,
    );
    const deep = JSON.stringify({ ...r, checks: [{ ...r.checks[0], evidence: { x: "DEEP" } }] }).replace('"DEEP"', `${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expect(() => parseReport(deep, "r.json")).toThrow(/checks\[0\]\.evidence\.x(\[0\])+: nested more than 64 levels deep/);
  });

  it("accepts every report the reporters are tested with, but a scenario name that cannot name the report's folder", () => {
    for (const [name, build] of Object.entries(fixtures).filter(([name]) => name !== "hostile")) {
      expect(() => parseReport(serializeReport(build()), name), name).not.toThrow();
    }
    expect(() => parseReport(serializeReport(fixtures.hostile()), "hostile")).toThrow(/scenario\.name: expected a scenario name/);
  });

  it("writes atomically: no temporary file is left behind", async () => {
    const file = await writeReport(report(), dir);
    await writeReport(report(), dir);
    expect(await readdir(path.dirname(file))).toEqual(["report.json"]);
    expect(JSON.parse(await readFile(file, "utf8")).runId).toBe("mq-json");
  });
});
