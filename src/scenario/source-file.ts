// A scenario can pull parts from other files (a compose file, Istio resources). Every problem
// still points at the file, line and column the user has to change: each YAML document keeps its
// own LineCounter, and a SourceMap sends a path of the merged scenario to where it was written.
import { LineCounter, parseAllDocuments, parseDocument, type Document, type YAMLError } from "yaml";
import { formatPath, type Finding } from "./finding.js";
import { locate, type DocPath, type LocateOptions } from "./locate.js";
import type { Problem, SourceLocation } from "./types.js";

/** One YAML document of a file, with what it takes to locate a path in it. */
export interface SourceFile {
  /** The path as the user gave it (joined to the scenario's folder when relative). */
  file: string;
  doc: Document;
  lines: LineCounter;
}

export interface ParsedFile {
  /** Every document of the file; empty after a syntax error. */
  documents: SourceFile[];
  problems: Problem[];
}

/** Reads a file the scenario refers to; null when it does not exist. Injected so parsing stays pure. */
export type FileReader = (path: string) => string | null;

/** Parses a YAML file into its documents; syntax errors and warnings become located problems. */
export function parseYamlFile(file: string, text: string, options: { multiDocument?: boolean; merge?: boolean } = {}): ParsedFile {
  const lines = new LineCounter();
  // merge: YAML 1.1's `<<: *anchor`, which compose files use and YAML 1.2 leaves out.
  const parseOptions = { lineCounter: lines, prettyErrors: false, merge: options.merge ?? false };
  const docs = options.multiDocument ? parseAllDocuments(text, parseOptions) : [parseDocument(text, parseOptions)];
  // parseAllDocuments returns an EmptyStream (an array with no documents) for an empty file.
  const list = Array.isArray(docs) ? docs : [];
  const problems = list.flatMap((doc) => [
    ...doc.errors.map((e) => yamlProblem(file, lines, e, "error")),
    ...doc.warnings.map((w) => yamlProblem(file, lines, w, "warning")),
  ]);
  if (problems.some((p) => p.severity === "error")) return { documents: [], problems };
  return { documents: list.map((doc) => ({ file, doc, lines })), problems };
}

export function yamlProblem(file: string, lines: LineCounter, e: YAMLError, severity: Problem["severity"]): Problem {
  const { line, col } = lines.linePos(e.pos[0]);
  return { severity, file, line, col, path: "", message: `invalid YAML: ${e.message}` };
}

/** A finding whose path is a path of `source`'s document. */
export function problemIn(source: SourceFile, finding: Finding): Problem {
  return {
    severity: finding.severity,
    file: source.file,
    ...locate(source.doc, source.lines, finding.path, finding),
    path: formatPath(finding.path),
    message: finding.message,
  };
}

/** A problem about a whole file that has no place in any document (unreadable, empty). */
export function fileProblem(file: string, message: string, severity: Problem["severity"] = "error"): Problem {
  return { severity, file, line: 1, col: 1, path: "", message };
}

interface Mapping {
  /** A path prefix in the merged scenario. */
  from: DocPath;
  source: SourceFile;
  /** Where that prefix is written in `source`. */
  to: DocPath;
}

/**
 * Paths of the merged scenario → where they are written. Unmapped paths belong to the scenario
 * file; a mapped prefix (an imported service, policy field or fault) belongs to its own file, and
 * the rest of the path is looked up below it there.
 */
export class SourceMap {
  private readonly mappings: Mapping[] = [];

  constructor(readonly main: SourceFile) {}

  add(from: DocPath, source: SourceFile, to: DocPath): void {
    this.mappings.push({ from, source, to });
  }

  /** The source and path in it where `path` of the merged scenario is written. */
  resolve(path: DocPath): { source: SourceFile; path: DocPath } {
    let best: Mapping | undefined;
    for (const m of this.mappings) {
      if (m.from.length > path.length || (best !== undefined && m.from.length <= best.from.length)) continue;
      if (m.from.every((segment, i) => String(path[i]) === String(segment))) best = m;
    }
    if (best === undefined) return { source: this.main, path };
    return { source: best.source, path: [...best.to, ...path.slice(best.from.length)] };
  }

  problem(finding: Finding): Problem {
    const { source, path } = this.resolve(finding.path);
    return problemIn(source, { ...finding, path });
  }

  location(path: DocPath): SourceLocation {
    const { source, path: inSource } = this.resolve(path);
    const at = locate(source.doc, source.lines, inSource);
    return source === this.main ? at : { ...at, file: source.file };
  }
}
