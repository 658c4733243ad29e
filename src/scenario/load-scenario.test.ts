import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatProblem } from "./format-problem.js";
import { parseScenario, readScenario } from "./load-scenario.js";

describe("parseScenario", () => {
  it("reports schema, reference and capability problems together, in file order", () => {
    const { scenario, problems } = parseScenario(
      "x.yaml",
      `name: together
services:
  frontend: { calls: [paymnts], replicas: 0 }
  payments: {}
faults:
  - { name: cut, kind: kill, target: payments }
dataPlane: envoy
`,
    );
    expect(scenario).toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      `x.yaml:3:23 services.frontend.calls[0]: unknown service "paymnts"; did you mean "payments"? Known services: "frontend", "payments".`,
      `x.yaml:3:43 services.frontend.replicas: must be between 1 and 20, found 0`,
      `x.yaml:7:12 dataPlane: data plane "envoy" is not implemented yet in this version of meshquake. Implemented: "haproxy".`,
    ]);
  });

  it("returns the scenario alongside warnings", () => {
    const { scenario, problems } = parseScenario(
      "w.yaml",
      `name: warned
services: { frontend: { calls: [payments] }, payments: {} }
policies: { payments: { timeout: 1s, retries: { perTryTimeout: 1s } } }
`,
    );
    expect(scenario?.name).toBe("warned");
    expect(problems.map((p) => [p.severity, p.path])).toEqual([["warning", "policies.payments.retries.perTryTimeout"]]);
  });

  it("does not look further than a YAML syntax error", () => {
    const { scenario, problems } = parseScenario("y.yaml", "name: [unclosed\nservices: {}\n");
    expect(scenario).toBeNull();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: "error", path: "" });
    expect(problems[0]?.message).toMatch(/^invalid YAML: /);
  });

  it("rejects a document that is not a map", () => {
    const { problems } = parseScenario("l.yaml", "- a\n- b\n");
    expect(problems.map(formatProblem)).toEqual(["l.yaml:1:1 expected a map, found a list of 2 items"]);
  });
});

describe("readScenario", () => {
  it("reports a missing file as a problem at 1:1", async () => {
    const { scenario, problems } = await readScenario("does/not/exist.yaml");
    expect(scenario).toBeNull();
    expect(problems.map(formatProblem)).toEqual(["does/not/exist.yaml:1:1 no such file"]);
  });

  it("reads and resolves a file, with the seed option", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshquake-scenario-"));
    try {
      const file = join(dir, "s.yaml");
      await writeFile(file, "name: from-disk\nseed: 3\nservices: { frontend: {} }\n");
      const { scenario, problems } = await readScenario(file, { seed: 9 });
      expect(problems).toEqual([]);
      expect(scenario).toMatchObject({ name: "from-disk", seed: 9, source: { file } });
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
