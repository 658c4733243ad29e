// report.json: the versioned artefact every other reporter and `meshquake report` read.
// Written with a stable key order (the report's own order at the top, every nested object's
// keys sorted) so two runs diff cleanly, and atomically so a killed run leaves no half file.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { explainIssues, PARSE_OPTIONS } from "../scenario/explain-issues.js";
import { error, formatPath } from "../scenario/finding.js";
import { locate, type DocPath, type LocateOptions } from "../scenario/locate.js";
import { runReportSchema } from "./report-schema.js";
import type { RunReport } from "../model/run-report.js";

export const REPORT_FILE = "report.json";
export const SCHEMA_VERSION = 1;

/** Top-level order: what a reader looks for first. Fields added later follow, sorted. */
const TOP_LEVEL_ORDER = [
  "schemaVersion",
  "tool",
  "runId",
  "startedAt",
  "verdict",
  "exitCode",
  "errors",
  "timings",
  "checks",
  "windows",
  "faults",
  "client",
  "edges",
  "replicas",
  "warnings",
  "environment",
  "load",
  "scenario",
] as const;

export class ReportFormatError extends Error {
  override name = "ReportFormatError";
}

/** `<outDir>/<scenario-name>/report.json` */
export function reportPath(outDir: string, scenarioName: string): string {
  return path.join(outDir, safeSegment(scenarioName), REPORT_FILE);
}

export function serializeReport(report: RunReport): string {
  const record = report as unknown as Record<string, unknown>;
  const known = new Set<string>(TOP_LEVEL_ORDER);
  const keys = [
    ...TOP_LEVEL_ORDER.filter((k) => k in record),
    ...Object.keys(record)
      .filter((k) => !known.has(k))
      .sort(),
  ];
  const ordered: Record<string, unknown> = {};
  for (const k of keys) if (record[k] !== undefined) ordered[k] = sortKeys(record[k]);
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Writes the report and returns its path. */
export async function writeReport(report: RunReport, outDir: string): Promise<string> {
  const file = reportPath(outDir, report.scenario.name);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, serializeReport(report), "utf8");
  await rename(tmp, file);
  return file;
}

export async function readReport(file: string): Promise<RunReport> {
  return parseReport(await readFile(file, "utf8"), file);
}

/** Parses and checks a report; `source` names it in errors. */
export function parseReport(text: string, source = "report"): RunReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ReportFormatError(`${source} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ReportFormatError(`${source} is not a meshquake report: expected a JSON object, found ${describe(data)}`);
  }
  const r = data as Record<string, unknown>;
  if (!("schemaVersion" in r)) {
    throw new ReportFormatError(`${source} is not a meshquake report: it has no schemaVersion`);
  }
  if (r.schemaVersion !== SCHEMA_VERSION) {
    const tool = r.tool as { version?: unknown } | undefined;
    const writer = typeof tool?.version === "string" ? ` (written by meshquake ${tool.version})` : "";
    throw new ReportFormatError(
      `${source} has schemaVersion ${JSON.stringify(r.schemaVersion)}${writer}; this meshquake reads schemaVersion ${SCHEMA_VERSION} only`,
    );
  }

  const tooDeep = deeperThan(data, MAX_NESTING);
  const parsed = runReportSchema.safeParse(data, PARSE_OPTIONS);
  if (tooDeep !== null || !parsed.success) {
    const findings = tooDeep !== null ? [error(tooDeep, `nested more than ${MAX_NESTING} levels deep; no report field is`)] : explainIssues(parsed.error!.issues, runReportSchema, data);
    const at = jsonLocator(text);
    const lines = findings.slice(0, MAX_PROBLEMS).map((f) => {
      const { line, col } = at(f.path, f);
      return `${source}:${line}:${col} ${formatPath(f.path) || "(top level)"}: ${f.message}`;
    });
    if (findings.length > MAX_PROBLEMS) lines.push(`... and ${findings.length - MAX_PROBLEMS} more`);
    throw new ReportFormatError(`${source} is not a valid schemaVersion 1 report:\n${lines.join("\n")}`);
  }
  return data as RunReport;
}

/** Deeper than any report field: refused before a reporter walks it. */
const MAX_NESTING = 64;
const MAX_PROBLEMS = 20;
/** Past this size a broken report is not parsed a second time for line numbers. */
const MAX_LOCATED_BYTES = 8 * 1024 * 1024;

/** The path of the first value nested deeper than `max`, or null; iterative, so any depth is safe. */
function deeperThan(data: unknown, max: number): DocPath | null {
  const stack: { value: unknown; path: DocPath }[] = [{ value: data, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (path.length > max) return path.slice(0, max + 1);
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    for (const [key, child] of entries) stack.push({ value: child, path: [...path, key] });
  }
  return null;
}

/** Line and column of a path in the JSON text (JSON is YAML: the scenario's locator serves). */
function jsonLocator(text: string): (path: DocPath, options: LocateOptions) => { line: number; col: number } {
  if (text.length > MAX_LOCATED_BYTES) return () => ({ line: 1, col: 1 });
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  return (path, options) => locate(doc, lines, path, options);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`;
}

/** A scenario name as one path segment (names are [a-z0-9-] already; this is the last guard). */
function safeSegment(name: string): string {
  const segment = name.replace(/[^A-Za-z0-9._-]/g, "-");
  if (segment === "" || segment === "." || segment === "..") {
    throw new ReportFormatError(`scenario name ${JSON.stringify(name)} cannot name a report folder`);
  }
  return segment;
}
