// A scenario can pull parts from other files (a compose file, Istio resources). Every problem
// still points at the file, line and column the user has to change: each YAML document keeps its
// own LineCounter, and a SourceMap sends a path of the merged scenario to where it was written.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument, type Document, type Node, type YAMLError, type YAMLMap } from "yaml";
import { LIMITS } from "./limits.js";
import { formatPath, type Finding } from "./finding.js";
import { locate, type DocPath, type LocateOptions } from "./locate.js";
import type { Problem, SourceLocation } from "./types.js";

/** One YAML document of a file, with what it takes to locate a path in it. */
export interface SourceFile {
  /** The path as the user gave it (joined to the scenario's folder when relative). */
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The document as plain data: every alias resolved, none unresolved, cyclic or exploding. */
  data: unknown;
}

export interface ParsedFile {
  /** Every document of the file; empty after a syntax error. */
  documents: SourceFile[];
  problems: Problem[];
}

/**
 * Reads a file the scenario refers to; null when it does not exist. Injected so parsing stays
 * pure. A reader may refuse a file (outside the scenario's folder, too large, not a regular
 * file) by throwing: the import that named it reports the message where it is named.
 */
export type FileReader = (path: string) => string | null;

/** A file a reader may not read, and why (thrown by a FileReader). */
export class ReadRefusedError extends Error {
  override name = "ReadRefusedError";
}

/** What readReferenced found: the text, no such file, or why the file cannot be read. */
export type Referenced = { text: string } | { missing: true } | { refused: string };

/** Reads a referenced file through `read`, turning a refusal or an oversized text into a reason. */
export function readReferenced(read: FileReader, file: string): Referenced {
  let text: string | null;
  try {
    text = read(file);
  } catch (e) {
    return { refused: e instanceof ReadRefusedError ? e.message : `cannot read ${file}: ${(e as Error).message}` };
  }
  if (text === null) return { missing: true };
  const tooBig = sizeProblem(Buffer.byteLength(text));
  return tooBig === null ? { text } : { refused: `${file}: ${tooBig}` };
}

/** Why a file of `bytes` is not read, or null. */
export function sizeProblem(bytes: number): string | null {
  if (bytes <= LIMITS.fileBytes) return null;
  return `the file is ${Math.ceil(bytes / 1024)} KiB; meshquake reads scenario and imported files of at most ${LIMITS.fileBytes / 1024} KiB`;
}

/** Parses a YAML file into its documents; syntax errors and warnings become located problems. */
export function parseYamlFile(file: string, text: string, options: { multiDocument?: boolean; merge?: boolean } = {}): ParsedFile {
  const tooBig = sizeProblem(Buffer.byteLength(text));
  if (tooBig !== null) return { documents: [], problems: [fileProblem(file, tooBig)] };
  const tooDeep = flowNesting(text);
  if (tooDeep !== null) return { documents: [], problems: [{ ...fileProblem(file, `invalid YAML: ${NESTED_TOO_DEEP}`), ...tooDeep }] };
  const lines = new LineCounter();
  // merge: YAML 1.1's `<<: *anchor`, which compose files use and YAML 1.2 leaves out.
  // uniqueKeys: the yaml package compares every key with every other (seconds for a few
  // thousand); documentData checks them in one pass instead.
  // resolveKnownTags: false — YAML 1.1's !!binary, !!set, !!omap and !!timestamp would become a
  // Buffer, a Set, a Map or a Date, none of which a scenario or an import can mean; they stay plain.
  const parseOptions = { lineCounter: lines, prettyErrors: false, merge: options.merge ?? false, uniqueKeys: false, resolveKnownTags: false };
  const docs = options.multiDocument ? parseAllDocuments(text, parseOptions) : [parseDocument(text, parseOptions)];
  // parseAllDocuments returns an EmptyStream (an array with no documents) for an empty file.
  const list = Array.isArray(docs) ? docs : [];
  const problems = list.flatMap((doc) => [
    ...yamlErrors(doc.errors).map((e) => yamlProblem(file, lines, e, "error")),
    ...doc.warnings.map((w) => yamlProblem(file, lines, w, "warning")),
  ]);
  if (problems.some((p) => p.severity === "error")) return { documents: [], problems };
  const documents: SourceFile[] = [];
  for (const doc of list) {
    const read = documentData(file, doc, lines, { merge: parseOptions.merge });
    if ("problems" in read) problems.push(...read.problems);
    else documents.push({ file, doc, lines, data: read.data });
  }
  return { documents: problems.some((p) => p.severity === "error") ? [] : documents, problems };
}

/** A document nested beyond the parser's stack fails at every level: its first error says it all. */
function yamlErrors(errors: readonly YAMLError[]): readonly YAMLError[] {
  const overflow = errors.find((e) => /call stack/i.test(e.message));
  return overflow === undefined ? errors : [overflow];
}

const NESTED_TOO_DEEP = `nested more than ${LIMITS.nesting} levels deep; a scenario needs far fewer`;

/**
 * Where `[` and `{` (or compact sequences, `- - - x`) nest deeper than LIMITS.nesting, found in
 * one pass before the yaml package (whose parser slows down with depth, and whose composer
 * recurses) reads the text. Quoted strings and comments are skipped; an apostrophe in a plain
 * scalar can only make it count less.
 */
function flowNesting(text: string): { line: number; col: number } | null {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (i === lineStart) {
      const compact = /^ *(?:[-?] +)+/.exec(text.slice(i, i + 4 * LIMITS.nesting + 4))?.[0] ?? "";
      if (compact.replace(/[^-?]/g, "").length > LIMITS.nesting) return { line, col: 1 };
    }
    if (c === "\n") {
      line++;
      lineStart = i + 1;
    } else if (c === "#" && (i === lineStart || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf("\n", i);
      i = (end === -1 ? text.length : end) - 1;
    } else if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c; i++) {
        if (text[i] === "\\" && c === '"') i++;
        else if (text[i] === "\n") {
          line++;
          lineStart = i + 1;
        }
      }
    } else if (c === "[" || c === "{") {
      if (++depth > LIMITS.nesting) return { line, col: i - lineStart + 1 };
    } else if ((c === "]" || c === "}") && depth > 0) {
      depth--;
    }
  }
  return null;
}

export function yamlProblem(file: string, lines: LineCounter, e: YAMLError, severity: Problem["severity"]): Problem {
  const { line, col } = lines.linePos(e.pos[0]);
  // The yaml package's composer recurses; a document nested beyond its stack says so.
  if (/call stack/i.test(e.message)) return { severity, file, line, col, path: "", message: `invalid YAML: ${NESTED_TOO_DEEP}` };
  const tag = /^Unresolved tag: (?:tag:yaml\.org,2002:(\S+)|(\S+))/.exec(e.message);
  if (tag) return { severity, file, line, col, path: "", message: `the tag ${tag[1] ? `!!${tag[1]}` : tag[2]} is not read here: the value is taken as written` };
  return { severity, file, line, col, path: "", message: `invalid YAML: ${e.message}` };
}

/**
 * The document as plain data, or why it cannot be: an alias with no anchor before it, an alias
 * inside the node it refers to (a cycle every later walk would follow forever), nesting beyond
 * LIMITS.nesting, or aliases that expand without bound (a "billion laughs"). The walk is
 * iterative, so no document can overflow the stack here.
 */
export function documentData(file: string, doc: Document, lines: LineCounter, options: { merge?: boolean } = {}): { data: unknown } | { problems: Problem[] } {
  const at = (node: Node, message: string): Problem => ({ severity: "error", file, ...positionOf(node, lines), path: "", message: `invalid YAML: ${message}` });
  const problems: Problem[] = [];
  /** Anchors defined so far (the last definition of a name wins, as in YAML). */
  const seen = new Map<string, Node>();
  const open = new Map<string, number>();
  /** Anchors whose node holds an alias: an alias to one of them multiplies. */
  const nested = new Set<string>();
  let aliases = 0;
  let firstAlias: Node | null = null;
  let firstNestedAlias: Node | null = null;
  type Frame = { node: unknown; depth: number; isKey?: boolean } | { leave: string; aliasesBefore: number };
  const stack: Frame[] = [{ node: doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if ("leave" in frame) {
      open.set(frame.leave, (open.get(frame.leave) ?? 1) - 1);
      if (aliases > frame.aliasesBefore) nested.add(frame.leave);
      continue;
    }
    const { node, depth } = frame;
    if (isAlias(node)) {
      aliases++;
      firstAlias ??= node;
      const target = seen.get(node.source);
      if (frame.isKey && (isMap(target) || isSeq(target))) problems.push(at(node, KEY_NOT_SCALAR));
      else if (target === undefined) problems.push(at(node, `alias *${node.source} refers to no anchor; an anchor &${node.source} must come before it`));
      else if ((open.get(node.source) ?? 0) > 0) problems.push(at(node, `alias *${node.source} is inside the node it refers to (&${node.source}): a cycle`));
      else if (nested.has(node.source)) firstNestedAlias ??= node;
      continue;
    }
    if (!isMap(node) && !isSeq(node) && !isScalar(node)) continue;
    if (node.anchor !== undefined) {
      seen.set(node.anchor, node);
      open.set(node.anchor, (open.get(node.anchor) ?? 0) + 1);
      stack.push({ leave: node.anchor, aliasesBefore: aliases });
    }
    if (isScalar(node)) continue;
    if (depth > LIMITS.nesting) {
      problems.push(at(node, NESTED_TOO_DEEP));
      break;
    }
    if (isMap(node)) {
      problems.push(...duplicateKeys(node, options.merge ?? false).map((key) => at(key, "Map keys must be unique")));
      // A map or list as a key (`? [a, b]: x`) has no meaning here, and would be turned into text.
      for (const { key } of node.items) if (isMap(key) || isSeq(key)) problems.push(at(key, KEY_NOT_SCALAR));
    }
    const children: { node: unknown; isKey: boolean }[] = isMap(node)
      ? node.items.flatMap((pair) => [{ node: pair.key, isKey: true }, { node: pair.value, isKey: false }])
      : node.items.map((item) => ({ node: item, isKey: false }));
    for (let i = children.length - 1; i >= 0; i--) stack.push({ ...children[i]!, depth: depth + 1 });
  }
  if (problems.length > 0) return { problems };
  try {
    return { data: doc.toJS({ maxAliasCount: LIMITS.aliasCount }) };
  } catch (e) {
    const culprit = firstNestedAlias ?? firstAlias;
    if (culprit !== null && /alias/i.test((e as Error).message)) {
      return { problems: [at(culprit, `aliases expand beyond ${LIMITS.aliasCount} copies of their anchors (an alias bomb?); write the values out instead`)] };
    }
    return { problems: [{ ...fileProblem(file, `invalid YAML: ${(e as Error).message}`) }] };
  }
}

/** Keys written a second time in one map (scalar keys compared by value, as the yaml package does). */
function duplicateKeys(map: YAMLMap, merge: boolean): Node[] {
  const seen = new Set<unknown>();
  const duplicates: Node[] = [];
  for (const { key } of map.items) {
    if (!isScalar(key)) continue;
    // `<<` merges may repeat (YAML 1.1 merge keys, which compose files use).
    if (merge && (key.value === "<<" || typeof key.value === "symbol")) continue;
    if (seen.has(key.value)) duplicates.push(key);
    seen.add(key.value);
  }
  return duplicates;
}

/** A map or list as a key (`? [a, b]: x`) has no meaning in these files, and would be turned into text. */
const KEY_NOT_SCALAR = "a key must be a plain word or a quoted string, not a map or a list";

function positionOf(node: Node, lines: LineCounter): { line: number; col: number } {
  const offset = node.range?.[0];
  return offset === undefined ? { line: 1, col: 1 } : lines.linePos(offset);
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
