import { describe, expect, it } from "vitest";
import type { CheckStatus } from "../model/run-report.js";
import { EXIT, exitCodeFor, overallVerdict } from "./verdict.js";

const checks = (...statuses: CheckStatus[]) => statuses.map((status) => ({ status }));
const harnessError = { stage: "runtime", message: "container payments-0 exited with 137" };

describe("overallVerdict", () => {
  it("passes a run with no checks and no errors", () => {
    expect(overallVerdict([])).toBe("passed");
    expect(overallVerdict(checks("passed", "passed"))).toBe("passed");
  });

  it("ranks error > failed > inconclusive > passed", () => {
    expect(overallVerdict(checks("passed", "inconclusive"))).toBe("inconclusive");
    expect(overallVerdict(checks("inconclusive", "failed", "passed"))).toBe("failed");
    expect(overallVerdict(checks("failed", "error", "inconclusive"))).toBe("error");
  });

  it("turns any harness error into an error verdict, even with every check passed or none at all", () => {
    expect(overallVerdict(checks("passed"), [harnessError])).toBe("error");
    expect(overallVerdict(checks("failed"), [harnessError])).toBe("error");
    expect(overallVerdict([], [harnessError])).toBe("error");
  });
});

describe("exit codes", () => {
  it("maps each verdict to its exit code", () => {
    expect(exitCodeFor("passed")).toBe(0);
    expect(exitCodeFor("failed")).toBe(1);
    expect(exitCodeFor("error")).toBe(3);
    expect(exitCodeFor("inconclusive")).toBe(4);
  });

  it("exports the codes the CLI decides itself", () => {
    expect(EXIT).toEqual({ passed: 0, failed: 1, usage: 2, harness: 3, inconclusive: 4, interrupted: 130 });
  });
});
