// report.json: the versioned artefact every other reporter and `meshquake report` read.
// Written with a stable key order (the report's own order at the top, every nested object's
// keys sorted) so two runs diff cleanly, and atomically so a killed run leaves no half file.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RunReport, Verdict } from "./types.js";

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

const VERDICTS: readonly Verdict[] = ["passed", "failed", "inconclusive", "error"];

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

  const problems: string[] = [];
  const expect = (key: string, ok: (v: unknown) => boolean, what: string): void => {
    if (!ok(r[key])) problems.push(`${key} should be ${what}, found ${describe(r[key])}`);
  };
  const isObject = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v);
  expect("runId", (v) => typeof v === "string", "a string");
  expect("startedAt", (v) => typeof v === "string", "an ISO time string");
  expect("verdict", (v) => VERDICTS.includes(v as Verdict), `one of ${VERDICTS.join(", ")}`);
  expect("exitCode", (v) => Number.isInteger(v), "an integer");
  expect("scenario", isObject, "an object");
  expect("client", isObject, "an object");
  expect("timings", isObject, "an object");
  expect("environment", isObject, "an object");
  for (const key of ["errors", "checks", "windows", "faults", "edges", "replicas", "warnings"]) {
    expect(key, Array.isArray, "an array");
  }
  if (problems.length > 0) {
    throw new ReportFormatError(`${source} is not a valid schemaVersion 1 report:\n  ${problems.join("\n  ")}`);
  }
  return data as RunReport;
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
