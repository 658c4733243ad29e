// The scenario module's entry point: text → every problem at once, located, and the resolved
// scenario when there is no error. parseScenario is pure; readScenario only adds the file read.
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument, type YAMLError } from "yaml";
import { capabilityFindings } from "./capabilities.js";
import { crossCheck } from "./cross-check.js";
import { explainIssues, PARSE_OPTIONS } from "./explain-issues.js";
import { error, formatPath, type Finding } from "./finding.js";
import { locate } from "./locate.js";
import { resolveScenario } from "./resolve.js";
import { scenarioParts } from "./scenario-parts.js";
import { scenarioSchema } from "./spec.js";
import type { Problem, ResolvedScenario } from "./types.js";

export interface ScenarioOptions {
  /** Overrides the scenario's seed (the --seed option). */
  seed?: number | undefined;
}

export interface ScenarioResult {
  /** null when any problem is an error. */
  scenario: ResolvedScenario | null;
  /** Errors and warnings in the order they appear in the file. */
  problems: Problem[];
}

export function parseScenario(file: string, text: string, options: ScenarioOptions = {}): ScenarioResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const yamlProblems = [
    ...doc.errors.map((e) => yamlProblem(file, lines, e, "error")),
    ...doc.warnings.map((w) => yamlProblem(file, lines, w, "warning")),
  ];
  // After a syntax error the tree is a guess; findings from it would point at the wrong things.
  if (doc.errors.length > 0) return { scenario: null, problems: sortByPosition(yamlProblems) };

  const data: unknown = doc.toJS();
  const parsed = scenarioSchema.safeParse(data, PARSE_OPTIONS);
  const findings: Finding[] =
    data === null || data === undefined
      ? [error([], `the scenario is empty; it needs at least "name" and "services"`)]
      : [
          ...(parsed.success ? [] : explainIssues(parsed.error.issues, scenarioSchema, data)),
          ...crossCheck(scenarioParts(data)),
          ...capabilityFindings(data),
        ];
  const problems = sortByPosition([
    ...yamlProblems,
    ...findings.map((f): Problem => ({
      severity: f.severity,
      file,
      ...locate(doc, lines, f.path, f),
      path: formatPath(f.path),
      message: f.message,
    })),
  ]);
  if (!parsed.success || problems.some((p) => p.severity === "error")) return { scenario: null, problems };
  const scenario = resolveScenario(parsed.data, {
    file,
    text,
    seed: options.seed,
    locate: (path) => locate(doc, lines, path),
  });
  return { scenario, problems };
}

/** Like parseScenario, reading the file first; an unreadable file is a problem, not a throw. */
export async function readScenario(file: string, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "this is a directory; expected a scenario YAML file"
          : `cannot read the file: ${(e as Error).message}`;
    return { scenario: null, problems: [{ severity: "error", file, line: 1, col: 1, path: "", message }] };
  }
  return parseScenario(file, text, options);
}

function yamlProblem(file: string, lines: LineCounter, e: YAMLError, severity: Problem["severity"]): Problem {
  const { line, col } = lines.linePos(e.pos[0]);
  return { severity, file, line, col, path: "", message: `invalid YAML: ${e.message}` };
}

/** Array.prototype.sort is stable: problems at one position keep the order they were found in. */
function sortByPosition(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}
