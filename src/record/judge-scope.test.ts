import { describe, expect, it } from "vitest";
import { parseScenario } from "../scenario/load-scenario.js";
import { judgeScopeProblems } from "./judge-scope.js";

const BASE = `name: s
seed: 1
services:
  frontend: { calls: [payments] }
  payments: { replicas: 2 }
load: { target: frontend, rate: 10, duration: 5s }
checks:
  - slo: p(99) < 500ms
    window: whole
`;
const scenario = (text: string) => parseScenario("edited.yaml", text).scenario!;

describe("what judge --scenario may change", () => {
  it("checks and the description: no problem", () => {
    const edited = scenario(`description: tighter\n${BASE.replace("p(99) < 500ms", "p(95) < 20ms")}  - slo: error_rate < 1%\n    window: whole\n`);
    expect(judgeScopeProblems(scenario(BASE), edited)).toEqual([]);
  });

  it("anything that shaped the recording: one located error per changed field", () => {
    const edited = scenario(BASE.replace("rate: 10", "rate: 20").replace("replicas: 2", "replicas: 3"));
    const problems = judgeScopeProblems(scenario(BASE), edited);
    expect(problems.map((p) => [p.path, p.file, p.line, p.col])).toEqual([
      ["services", "edited.yaml", 3, 1],
      ["load", "edited.yaml", 6, 1],
    ]);
    expect(problems[1]!.message).toMatch(/only checks: .* description: and acknowledge: may change/);
  });
});
