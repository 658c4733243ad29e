// The scenario module's entry point: text → every problem at once, located, and the resolved
// scenario when there is no error. parseScenario is pure; readScenario only adds the file read.
import { readFileSync, realpathSync, statSync } from "node:fs";
import { capabilityFindings } from "./capabilities.js";
import { crossCheck } from "./cross-check.js";
import { explainIssues, hiddenKeyFindings, PARSE_OPTIONS } from "./explain-issues.js";
import { error, type Finding } from "./finding.js";
import { ImportBoundary, type BoundaryOptions } from "./import-boundary.js";
import { applyImports } from "./imports.js";
import { resolveScenario } from "./resolve.js";
import { asMap, scenarioParts } from "./scenario-parts.js";
import { parseYamlFile, ReadRefusedError, sizeProblem, SourceMap, type FileReader } from "./source-file.js";
import { scenarioSchema } from "./spec.js";
import type { DocPath } from "./locate.js";
import type { Problem, ResolvedScenario, SourceLocation } from "./types.js";

export interface ScenarioOptions extends BoundaryOptions {
  /** Overrides the scenario's seed (the --seed option). */
  seed?: number | undefined;
  /**
   * Reads the files a scenario imports (topology.compose, policies.istio, a compose env_file).
   * parseScenario does no I/O of its own: without a reader every import is "no such file".
   * Whatever reader is given, files outside the scenario's folder are refused unless
   * allowOutsideImports is set.
   */
  readFile?: FileReader;
}

export interface ScenarioResult {
  /** null when any problem is an error. */
  scenario: ResolvedScenario | null;
  /** Errors and warnings, by file (the scenario first), in the order they appear in each. */
  problems: Problem[];
  /** Where a path of the merged scenario is written (its own file for an imported part); with a scenario. */
  locate?: (path: DocPath) => SourceLocation;
}

export function parseScenario(file: string, text: string, options: ScenarioOptions = {}): ScenarioResult {
  const parsedFile = parseYamlFile(file, text);
  const source = parsedFile.documents[0];
  // After a syntax error the tree is a guess; findings from it would point at the wrong things.
  if (source === undefined) return { scenario: null, problems: sortByPosition(parsedFile.problems) };
  const yamlProblems = parsedFile.problems;

  const data = source.data;
  const parsed = scenarioSchema.safeParse(data, PARSE_OPTIONS);
  const sources = new SourceMap(source);
  const boundary = new ImportBoundary(file, options);
  const read = boundary.guard(options.readFile ?? (() => null));
  const empty = data === null || data === undefined;
  const imported = empty ? { data, problems: [], findings: [] } : applyImports(file, data, read, sources, boundary);
  const findings: Finding[] = empty
    ? [error([], `the scenario is empty; it needs at least "name" and "services"`)]
    : [
        ...(parsed.success ? [] : explainIssues(parsed.error.issues, scenarioSchema, data)),
        ...hiddenKeyFindings(scenarioSchema, data),
        ...servicesOrCompose(data),
        ...imported.findings,
        ...crossCheck(scenarioParts(imported.data)),
        ...capabilityFindings(data),
      ];
  const problems = sortByPosition([...yamlProblems, ...findings.map((f) => sources.problem(f)), ...imported.problems], file);
  if (!parsed.success || problems.some((p) => p.severity === "error")) return { scenario: null, problems };
  // The merged document is what the user wrote plus what the imports produced, each part valid.
  const merged = scenarioSchema.safeParse(imported.data, PARSE_OPTIONS);
  if (!merged.success) {
    const extra = explainIssues(merged.error.issues, scenarioSchema, imported.data).map((f) => sources.problem(f));
    return { scenario: null, problems: sortByPosition([...problems, ...extra], file) };
  }
  const scenario = resolveScenario(merged.data, {
    file,
    text,
    seed: options.seed,
    locate: (path) => sources.location(path),
  });
  return { scenario, problems, locate: (path) => sources.location(path) };
}

/** `services` may be left out only when a compose file provides them. */
function servicesOrCompose(data: unknown): Finding[] {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return [];
  const root = asMap(data);
  if (root.services !== undefined || root.topology !== undefined) return [];
  return [error([], `missing required key "services"`)];
}

/** Like parseScenario, reading the file first; an unreadable file is a problem, not a throw. */
export async function readScenario(file: string, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  let text: string;
  try {
    text = readBoundedFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message =
      e instanceof ReadRefusedError
        ? e.message
        : code === "ENOENT"
          ? "no such file"
          : code === "EISDIR"
            ? "this is a directory; expected a scenario YAML file"
            : `cannot read the file: ${(e as Error).message}`;
    return { scenario: null, problems: [{ severity: "error", file, line: 1, col: 1, path: "", message }] };
  }
  return parseScenario(file, text, { readFile: readFileOrNull, realPath: realPathOrNull, ...options });
}

/**
 * The reader readScenario gives parseScenario: a missing file is null; a file that is not a
 * regular file (a FIFO or /dev/zero would never end) or is too large is refused; anything else
 * unreadable throws.
 */
export function readFileOrNull(path: string): string | null {
  try {
    return readBoundedFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return null;
    throw e;
  }
}

/** The file's text, after making sure it is a regular file within LIMITS.fileBytes. */
function readBoundedFile(path: string): string {
  const info = statSync(path);
  if (info.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
  if (!info.isFile()) throw new ReadRefusedError(`${JSON.stringify(path)} is not a regular file; meshquake reads only files`);
  const tooBig = sizeProblem(info.size);
  if (tooBig !== null) throw new ReadRefusedError(tooBig);
  return readFileSync(path, "utf8");
}

export function realPathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/**
 * The scenario's own problems first, then each imported file's, each by position. Array.prototype.sort
 * is stable: problems at one position keep the order they were found in.
 */
function sortByPosition(problems: Problem[], mainFile?: string): Problem[] {
  const files = [...new Set([mainFile, ...problems.map((p) => p.file)].filter((f): f is string => f !== undefined))];
  return [...problems].sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line || a.col - b.col);
}
