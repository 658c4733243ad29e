import { describe, expect, it } from "vitest";
import { formatProblem } from "./format-problem.js";

describe("formatProblem", () => {
  const base = { file: "scenarios/x.yaml", line: 14, col: 13, path: "faults[0].target", message: "unknown service" } as const;

  it("prints file:line:col path: message", () => {
    expect(formatProblem({ ...base, severity: "error" })).toBe("scenarios/x.yaml:14:13 faults[0].target: unknown service");
  });

  it("marks warnings after the location", () => {
    expect(formatProblem({ ...base, severity: "warning" })).toBe("scenarios/x.yaml:14:13 warning: faults[0].target: unknown service");
  });

  it("leaves out an empty path", () => {
    expect(formatProblem({ ...base, severity: "error", path: "", message: "no such file" })).toBe("scenarios/x.yaml:14:13 no such file");
  });
});
