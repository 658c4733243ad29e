// The invalid-scenario corpus: every fixtures/invalid/<case>.yaml must produce exactly the lines
// in its <case>.expected. The valid fixtures must produce no problem at all.
import { readdirSync, readFileSync } from "node:fs";
import { validateParsed, validationLines } from "../cli/validate.js";
import { HOSTILE_DIR, hostileFiles } from "./hostile-cases.js";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatProblem } from "./format-problem.js";
import { isAbsolute, join } from "node:path";
import { parseScenario, readFileOrNull } from "./load-scenario.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Imports (compose files, Istio resources) are read relative to the project root, as the CLI would from there. */
const readFile = (path: string) => readFileOrNull(isAbsolute(path) ? path : join(ROOT, path));

function cases(folder: string): string[] {
  return readdirSync(`${ROOT}${folder}`)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

describe("invalid scenarios report exactly the expected problems", () => {
  const invalid = cases("fixtures/invalid");

  it("the corpus is not empty", () => {
    expect(invalid.length).toBeGreaterThanOrEqual(20);
  });

  it.each(invalid)("%s", (name) => {
    const file = `fixtures/invalid/${name}.yaml`;
    const { scenario, problems } = parseScenario(file, readFileSync(`${ROOT}${file}`, "utf8"), { readFile });
    const expected = readFileSync(`${ROOT}fixtures/invalid/${name}.expected`, "utf8").trimEnd().split("\n");
    expect(problems.map(formatProblem)).toEqual(expected);
    expect(scenario).toBeNull();
  });
});

describe("valid scenarios have no problems", () => {
  it.each(cases("fixtures/valid"))("%s", (name) => {
    const file = `fixtures/valid/${name}.yaml`;
    const { scenario, problems } = parseScenario(file, readFileSync(`${ROOT}${file}`, "utf8"), { readFile });
    expect(problems.map(formatProblem)).toEqual([]);
    expect(scenario?.name).toBe(name);
  });
});

describe("hostile scenarios: exit 2, every problem located, fast, exactly the expected lines", () => {
  const hostile = cases(HOSTILE_DIR);

  it("the corpus holds at least 25 cases, and is what src/scenario/hostile-cases.ts generates", () => {
    expect(hostile.length).toBeGreaterThanOrEqual(25);
    for (const [path, text] of Object.entries(hostileFiles())) {
      expect(readFileSync(`${ROOT}${HOSTILE_DIR}/${path}`, "utf8"), `${path}: regenerate with npx tsx src/scenario/hostile-cases.ts`).toBe(text);
    }
  });

  it.each(hostile)("%s", (name) => {
    const file = `${HOSTILE_DIR}/${name}.yaml`;
    const started = performance.now();
    const result = validateParsed(file, parseScenario(file, readFileSync(`${ROOT}${file}`, "utf8"), { readFile }));
    expect(performance.now() - started).toBeLessThan(2000);
    const lines = validationLines(result);
    const expected = readFileSync(`${ROOT}${HOSTILE_DIR}/${name}.expected`, "utf8").trimEnd().split("\n");
    expect(lines).toEqual(expected);
    expect(result.valid).toBe(false);
    expect(result.planError).toBeNull();
    expect(lines.every((l) => /^\S+:\d+:\d+ /.test(l))).toBe(true);
  });
});
