import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../scenario/load-scenario.js";
import { readFileOrNull } from "../scenario/load-scenario.js";
import { formatProblem } from "../scenario/format-problem.js";
import { validateParsed, validationLines } from "./validate.js";

const validate = (text: string, file = "w.yaml") => validationLines(validateParsed(file, parseScenario(file, text)));

const RETRYING = `name: w
services:
  frontend: { calls: [payments] }
  payments: { replicas: 3 }
policies:
  payments:
    retries: { attempts: 3, retryOn: [5xx] }
load: { target: frontend, rate: 10, duration: 5s }
`;

describe("validate's plan warnings", () => {
  it("point at the policy field they are about, and end with the id that acknowledges them", () => {
    expect(validate(RETRYING)).toEqual([
      "w.yaml:7:38 warning: frontend: calls to payments: retryOn 5xx retries replica statuses 500-504 only (HAProxy 2.6 cannot retry other 5xx) [retry-5xx-statuses]",
      "w.yaml:7:26 warning: frontend: calls to payments: each retry avoids the replica the previous try used, not every replica tried before: " +
        "with 3 attempts a later retry may return to an earlier replica (Envoy's previous_hosts avoids them all) [retry-previous-host]",
    ]);
  });

  it("are silenced by acknowledge:, everywhere or at a path, and a stale acknowledgement is said", () => {
    expect(validate(`${RETRYING}acknowledge: [retry-5xx-statuses, { warning: retry-previous-host, at: policies.payments }]\n`)).toEqual([]);
    const lines = validate(`${RETRYING}acknowledge:\n  - retry-5xx-statuses\n  - { warning: retry-previous-host, at: policies.checkout }\n`);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^w\.yaml:7:26 warning: .*\[retry-previous-host\]$/);
    expect(lines[1]).toBe(
      "w.yaml:11:5 warning: acknowledge[1]: retry-previous-host at policies.checkout matches no warning of this scenario; " +
        "remove it so it cannot hide a future one [acknowledgement-unused]",
    );
  });

  it("refuses an unknown id, located, with the closest one and every allowed id", () => {
    const [line, ...rest] = validate(`${RETRYING}acknowledge: [retry-5xx-status]\n`);
    expect(rest).toEqual([]);
    expect(line).toMatch(/^w\.yaml:9:15 acknowledge\[0\]: unknown warning id "retry-5xx-status"; did you mean "retry-5xx-statuses"\? Allowed: "retry-attempts-zero", /);
  });

  it("every shipped scenario, example and the init starter plans without a warning it has not acknowledged", () => {
    const files = [
      ...readdirSync("scenarios").map((f) => `scenarios/${f}`),
      ...readdirSync("examples").map((f) => `examples/${f}`),
      "templates/init/scenario.yaml",
    ].filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const parsed = parseScenario(file, readFileSync(file, "utf8"), { readFile: readFileOrNull, allowOutsideImports: true });
      const result = validateParsed(file, parsed);
      expect(result.valid, file).toBe(true);
      expect(result.warnings.map(formatProblem), file).toEqual([]);
    }
  });
});
