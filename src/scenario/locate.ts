// Document path → line and column, so every problem points at the text the user has to change.
import { isAlias, isMap, isScalar, isSeq, Scalar, type Document, type LineCounter, type Node } from "yaml";
import type { SourceLocation } from "./types.js";

export type DocPath = readonly (string | number)[];

export interface LocateOptions {
  /** "key": point at the key itself (an unknown or unsupported key); default: at its value. */
  at?: "value" | "key";
  /** Characters into a single-line scalar value, e.g. the bad token inside an SLO expression. */
  offset?: number;
}

/**
 * Where `path` is written. A path that leaves the document (a missing key) points at the deepest
 * node that exists, usually the map the key is missing from; an empty value points at its key.
 */
export function locate(doc: Document, lines: LineCounter, path: DocPath, options: LocateOptions = {}): SourceLocation {
  let node: unknown = doc.contents;
  for (const [i, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc) ?? node;
    if (isMap(node)) {
      const pair = findPair(doc, node, String(segment));
      if (pair === undefined) return positionOf(node, lines);
      const key = isNode(pair.key) ? pair.key : node;
      if (i === path.length - 1 && options.at === "key") return positionOf(key, lines);
      if (isEmptyValue(pair.value)) return positionOf(key, lines);
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (!isNode(item)) return positionOf(node, lines);
      node = item;
    } else {
      return positionOf(isNode(node) ? node : null, lines);
    }
  }
  const position = positionOf(isNode(node) ? node : null, lines);
  if (options.offset === undefined || !isScalar(node)) return position;
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
  return { line: position.line, col: position.col + options.offset + (quoted ? 1 : 0) };
}

type Pair = { key: unknown; value: unknown };

/** The pair for `key`, also inside `<<: *anchor` merges (compose files use them), the map's own keys first. */
function findPair(doc: Document, map: { items: Pair[] }, key: string, depth = 0): Pair | undefined {
  const own = map.items.find((p) => keyText(p.key) === key);
  if (own !== undefined || depth > 8) return own;
  // With `merge: true` the yaml package keys a merge with the symbol Symbol(<<).
  const isMerge = (k: unknown) => isScalar(k) && (k.value === "<<" || typeof k.value === "symbol");
  for (const merge of map.items.filter((p) => isMerge(p.key))) {
    const sources = isSeq(merge.value) ? merge.value.items : [merge.value];
    for (const source of sources) {
      const target = isAlias(source) ? source.resolve(doc) : source;
      if (!isMap(target)) continue;
      const found = findPair(doc, target as { items: Pair[] }, key, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function positionOf(node: Node | null, lines: LineCounter): SourceLocation {
  const offset = node?.range?.[0];
  if (offset === undefined) return { line: 1, col: 1 };
  return lines.linePos(offset);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === "string" ? key : undefined;
}

function isNode(value: unknown): value is Node {
  return isMap(value) || isSeq(value) || isScalar(value) || isAlias(value);
}

function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  return isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1];
}
