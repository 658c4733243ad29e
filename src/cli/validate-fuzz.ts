// Fuzzing `meshquake validate`: scenarios mutated from the shipped ones and the corpora (type
// swaps, huge and negative numbers, NaN-ish strings, deep nesting, long strings, unicode and
// control characters, aliases, duplicate and removed keys, `__proto__` keys, imported files
// mutated too), each run through the function the CLI runs. Every case must end in exit 0 or 2
// within CASE_LIMIT_MS, every exit-2 line located, and a valid scenario must plan. Case i is a
// pure function of (seed, i): a failure is replayed from the seed and its number alone.
import { readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { Document, parseDocument } from "yaml";
import { parseScenario, readFileOrNull } from "../scenario/load-scenario.js";
import { safeLine } from "../util/safe-text.js";
import { mulberry32 } from "../util/seeded-random.js";
import { validateParsed, validationExitCode, validationLines } from "./validate.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CASE_LIMIT_MS = 2000;
/** A mutation that grows a text beyond this cuts it here (still over the file limit). */
const MAX_CASE_CHARS = 300 * 1024;
/** Seeds larger than this are skipped: they test the size limit, which one case covers. */
const MAX_SEED_BYTES = 64 * 1024;

export interface FuzzCase {
  index: number;
  /** The scenario's path, as the CLI would be given it (imports resolve from it). */
  file: string;
  text: string;
  /** Imported files replaced by a mutated text. */
  imports: Record<string, string>;
  /** What was done to the seed. */
  ops: string[];
}

export interface Outcome {
  index: number;
  ms: number;
  exit: number | null;
  /** Why the case fails the fuzz (a crash, a slow case, an unlocated line, exit 3), or null. */
  failure: string | null;
}

/** The seeds: every shipped scenario and every corpus scenario. */
export function seedFiles(): { file: string; text: string }[] {
  const dirs = ["scenarios", "fixtures/valid", "fixtures/invalid", "fixtures/hostile"];
  return dirs.flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) => ({ file: `${dir}/${f}`, text: readFileSync(join(ROOT, dir, f), "utf8") }))
      .filter((s) => Buffer.byteLength(s.text) <= MAX_SEED_BYTES),
  );
}

/** Files a seed imports (compose, env files, Istio): they are mutated too, now and then. */
const IMPORTED = [
  "docker-compose.yml",
  "fixtures/istio/virtualservice.yaml",
  "fixtures/istio/destinationrule.yaml",
  "fixtures/invalid/imports/compose-problems.yml",
  "fixtures/invalid/imports/istio-problems.yaml",
  "fixtures/hostile/imports/env-file/compose.yml",
  "fixtures/hostile/imports/interpolation/compose.yml",
  "fixtures/hostile/imports/interpolation/.env",
  "fixtures/hostile/imports/istio-aliases.yaml",
];

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, max: number) => Math.floor(random() * max);

const WEIRD_SCALARS = [
  "1e308", "-1e308", "-1", "0", "-0", "1.5", "9007199254740993", "99999999999999999999", ".nan", ".inf", "-.inf", "NaN", "Infinity",
  "0x10", "1_000", "true", "null", "~", "!!timestamp 2001-12-14", "!!omap [ { a: 1 } ]", "!!str 1", "!!float 1", '""', "''", "[]", "{}", "600h", "99999999999999999999h", "2147483648ms", "0s", "-1s",
  "1e3s", "1h1h", "5", '"5"', "__proto__", "constructor", "prototype", '"\\u001b[2J"', '"\\r\\n::error::x"', '"/a b"', "x-mq-from",
  "15001", '"\\u202e"', '"p\\u0430yments"', "*nope", "!!binary aGk=", "!!set { a }", "!custom x", "<<", "'%'", "@", "`", "|\n  block",
];

const UNICODE = ["\u202e", "\u200b", "\ufeff", "\u0000", "\u001b[2J", "\r", "\u0085", "\u2028", "é", "😀", "\ud800", "а", "::error::x\n"];

/** Text-level mutations: what a careless editor, a bad merge or an attacker writes. */
const TEXT_OPS: Record<string, (text: string, random: Random) => string> = {
  control: (t, r) => insertAt(t, int(r, t.length + 1), pick(r, UNICODE)),
  "duplicate-line": (t, r) => {
    const lines = t.split("\n");
    const i = int(r, lines.length);
    lines.splice(i, 0, lines[i] ?? "");
    return lines.join("\n");
  },
  "remove-line": (t, r) => {
    const lines = t.split("\n");
    lines.splice(int(r, lines.length), 1 + int(r, 3));
    return lines.join("\n");
  },
  truncate: (t, r) => t.slice(0, int(r, t.length + 1)),
  "weird-scalar": (t, r) => t.replace(/(:\s+)([^\s{[][^\n,}\]]*)/g, (m, sep: string, value: string) => (r() < 0.08 ? `${sep}${pick(r, WEIRD_SCALARS)}` : `${sep}${value}`)),
  "long-string": (t, r) => t.replace(/(:\s+)([a-z][\w-]*)/, (_m, sep: string, v: string) => `${sep}${v.slice(0, 16).repeat(500 + int(r, 5000))}`),
  "deep-nesting": (t, r) => {
    const depth = 10 + int(r, 400);
    return `${t}\nx-deep: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
  },
  indent: (t, r) => {
    const lines = t.split("\n");
    const i = int(r, lines.length);
    lines[i] = r() < 0.5 ? ` ${lines[i]}` : (lines[i] ?? "").replace(/^ /, "");
    return lines.join("\n");
  },
  anchors: (t, r) => {
    const lines = t.split("\n");
    const i = int(r, lines.length);
    lines[i] = (lines[i] ?? "").replace(/:\s+(\S)/, r() < 0.5 ? ": &a $1" : ": *a");
    return lines.join("\n");
  },
  "alias-bomb": (t) => `${t}\nx-bomb:\n  a: &a [l, l, l, l, l, l, l, l, l]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
  "proto-key": (t, r) => {
    const lines = t.split("\n");
    const i = int(r, lines.length);
    const indent = /^\s*/.exec(lines[i] ?? "")?.[0] ?? "";
    lines.splice(i, 0, `${indent}${pick(r, ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"])}: ${pick(r, ["{}", "x", "{ a: 1 }", "[]"])}`);
    return lines.join("\n");
  },
  "collection-key": (t, r) => {
    const lines = t.split("\n");
    const i = int(r, lines.length);
    const indent = /^\s*/.exec(lines[i] ?? "")?.[0] ?? "";
    lines.splice(i, 0, r() < 0.5 ? `${indent}? [a, b]\n${indent}: x` : `${indent}x-k: &k { a: 1 }\n${indent}*k : y`);
    return lines.join("\n");
  },
  "byte-flip": (t, r) => {
    const i = int(r, t.length);
    return t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << int(r, 7))) + t.slice(i + 1);
  },
};

/** Data-level mutations: the document stays YAML, its values and shape change. */
const DATA_OPS: Record<string, (data: unknown, random: Random) => unknown> = {
  "type-swap": (d, r) => atRandomPath(d, r, () => pick(r, [42, -1, 1.5, "text", true, null, [], {}, ["a"], { a: 1 }])),
  "huge-number": (d, r) => atRandomPath(d, r, () => pick(r, [1e308, -1e308, 2 ** 53 + 2, -0, 1e21, 2 ** 31, 4294967296, Number.MAX_SAFE_INTEGER])),
  "nan-string": (d, r) => atRandomPath(d, r, () => pick(r, ["NaN", "nan", "Infinity", "-Infinity", "1e999", "0x1p3", "", " ", "1 000"])),
  "remove-key": (d, r) => atRandomMap(d, r, (map) => {
    const keys = Object.keys(map);
    if (keys.length > 0) delete map[pick(r, keys)];
  }),
  "proto-key": (d, r) => atRandomMap(d, r, (map) => {
    Object.defineProperty(map, pick(r, ["__proto__", "constructor", "prototype", "valueOf"]), { value: pick(r, [{}, "x", 1, [], { timeout: "1s" }]), enumerable: true, writable: true, configurable: true });
  }),
  "long-string": (d, r) => atRandomPath(d, r, () => pick(r, ["a", "/", "1", "é", "\u0000"]).repeat(1000 + int(r, 20_000))),
  duration: (d, r) => atRandomPath(d, r, () => pick(r, ["600h", "596h", "24h", "24h1ms", "99999999999999999999h", "2147483647ms", "0ms", "1.5.5s", "1h..2h", "2h..1h", "1ms..61m"])),
  "duplicate-item": (d, r) => atRandomList(d, r, (list) => {
    if (list.length > 0) list.push(list[int(r, list.length)]);
  }),
  "many-items": (d, r) => atRandomList(d, r, (list) => {
    const item = list[0] ?? "x";
    for (let i = 0, n = 50 + int(r, 500); i < n; i++) list.push(structuredClone(item));
  }),
  "deep-value": (d, r) => atRandomPath(d, r, () => {
    let v: unknown = "leaf";
    for (let i = 0, n = 20 + int(r, 200); i < n; i++) v = r() < 0.5 ? [v] : { k: v };
    return v;
  }),
  name: (d, r) => atRandomPath(d, r, () => pick(r, ["UPPER", "a b", "-lead", "x".repeat(64), "x".repeat(61), "café", "a\u202eb", "payments[1]", "fault:x", "recovery:", "a_b"])),
};

/** Case `index` of the fuzz run `seed`: one seed scenario with one to three mutations. */
export function fuzzCase(seed: number, index: number, seeds = seedFiles()): FuzzCase {
  const random = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  // Half the cases start from a valid scenario, so that mutations which keep it valid reach the plan.
  const valid = seeds.filter((s) => !s.file.startsWith("fixtures/invalid/") && !s.file.startsWith("fixtures/hostile/"));
  const base = index % 2 === 0 ? valid[(index / 2) % valid.length]! : seeds[Math.floor(index / 2) % seeds.length]!;
  const ops: string[] = [];
  const imports: Record<string, string> = {};
  let text = base.text;
  const roll = random();
  for (let n = roll < 0.6 ? 1 : roll < 0.85 ? 2 : 3; n > 0; n--) {
    const target = random() < 0.15 ? pick(random, IMPORTED) : null;
    const source = target === null ? text : (imports[target] ?? readFileSync(join(ROOT, target), "utf8"));
    const dataOp = random() < 0.5 && !target?.endsWith(".env");
    const name = dataOp ? pick(random, Object.keys(DATA_OPS)) : pick(random, Object.keys(TEXT_OPS));
    let mutated = dataOp ? mutateData(source, (d) => DATA_OPS[name]!(d, random)) : TEXT_OPS[name]!(source, random);
    ops.push(`${name}${target === null ? "" : ` in ${target}`}`);
    // Past the size limit only the limit is tested: keep the fuzz's own strings small.
    if (mutated.length > MAX_CASE_CHARS) mutated = mutated.slice(0, MAX_CASE_CHARS);
    if (target === null) text = mutated;
    else imports[target] = mutated;
  }
  return { index, file: base.file, text, imports, ops };
}

/** Runs one case as `meshquake validate` would, and says what is wrong with the outcome. */
export function checkCase(c: FuzzCase): Outcome {
  const started = performance.now();
  let exit: number | null = null;
  let failure: string | null = null;
  try {
    const allowOutsideImports = c.index % 4 < 2;
    const result = validateParsed(c.file, parseScenario(c.file, c.text, { readFile: projectReader(c.imports), allowOutsideImports }));
    exit = validationExitCode([result]);
    const lines = validationLines(result);
    // A file name may hold ":" or spaces: a line is located when it starts with its problem's file:line:col.
    const unlocated = result.problems.find((p, i) => !(p.line >= 1 && p.col >= 1 && lines[i]!.startsWith(`${safeLine(p.file)}:${p.line}:${p.col} `)));
    const raw = lines.find((l) => /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202e]/.test(l));
    if (result.planError !== null) failure = `valid, but the plan refused it: ${result.planError}`;
    else if (exit !== 0 && exit !== 2) failure = `exit ${exit}`;
    else if (exit === 2 && unlocated !== undefined) failure = `unlocated: ${JSON.stringify(unlocated)}`;
    else if (raw !== undefined) failure = `a raw control character would reach the terminal: ${JSON.stringify(raw)}`;
  } catch (e) {
    failure = `crash: ${e instanceof Error ? (e.stack ?? e.message).split("\n").slice(0, 6).join("\n") : String(e)}`;
  }
  const ms = performance.now() - started;
  if (failure === null && ms > CASE_LIMIT_MS) failure = `slow: ${Math.round(ms)} ms (limit ${CASE_LIMIT_MS} ms)`;
  return { index: c.index, ms, exit, failure };
}

/** The smallest input (by lines) that still fails the same way, for the report. */
export function minimize(c: FuzzCase, failure: string, budgetMs = 10_000): string {
  const kind = failure.split(":")[0];
  const fails = (text: string) => checkCase({ ...c, text }).failure?.split(":")[0] === kind;
  const deadline = performance.now() + budgetMs;
  let lines = c.text.split("\n");
  for (let chunk = Math.ceil(lines.length / 2); chunk >= 1 && performance.now() < deadline; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let i = 0; i < lines.length && performance.now() < deadline; ) {
      const candidate = [...lines.slice(0, i), ...lines.slice(i + chunk)];
      if (candidate.length < lines.length && fails(candidate.join("\n"))) lines = candidate;
      else i += chunk;
    }
  }
  return lines.join("\n");
}

const cache = new Map<string, string | null>();

/** Project files only (never a path outside the checkout), with the case's mutated imports on top. */
function projectReader(imports: Record<string, string>): (path: string) => string | null {
  return (path) => {
    const rel = relative(ROOT, isAbsolute(path) ? path : join(ROOT, path));
    if (rel.split(sep)[0] === ".." || isAbsolute(rel)) return null;
    if (rel in imports) return imports[rel]!;
    if (!cache.has(rel)) cache.set(rel, readFileOrNull(join(ROOT, rel)));
    return cache.get(rel)!;
  };
}

function insertAt(text: string, at: number, what: string): string {
  return text.slice(0, at) + what + text.slice(at);
}

function mutateData(text: string, mutate: (data: unknown) => unknown): string {
  const doc = parseDocument(text, { uniqueKeys: false, merge: true });
  if (doc.errors.length > 0) return text;
  try {
    return new Document(mutate(doc.toJS({ maxAliasCount: 100 })), { aliasDuplicateObjects: false }).toString({ lineWidth: 0 });
  } catch {
    // A seed the yaml package cannot turn into data and back (a cyclic alias): mutate its text instead.
    return text;
  }
}

/** Replaces one value somewhere in the document (the root included) with `make()`. */
function atRandomPath(data: unknown, random: Random, make: () => unknown): unknown {
  const containers = collect(data, (v) => typeof v === "object" && v !== null);
  if (containers.length === 0 || random() < 0.02) return make();
  const container = pick(random, containers) as Record<string, unknown> | unknown[];
  const keys = Object.keys(container);
  if (keys.length === 0) return data;
  const key = pick(random, keys);
  Object.defineProperty(container, key, { value: make(), enumerable: true, writable: true, configurable: true });
  return data;
}

function atRandomMap(data: unknown, random: Random, change: (map: Record<string, unknown>) => void): unknown {
  const maps = collect(data, (v) => typeof v === "object" && v !== null && !Array.isArray(v)) as Record<string, unknown>[];
  if (maps.length > 0) change(pick(random, maps));
  return data;
}

function atRandomList(data: unknown, random: Random, change: (list: unknown[]) => void): unknown {
  const lists = collect(data, Array.isArray) as unknown[][];
  if (lists.length > 0) change(pick(random, lists));
  return data;
}

/** Every value in the document once (a node shared through aliases is one node). */
function collect(data: unknown, keep: (value: unknown) => boolean): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  const stack = [data];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "object" && value !== null) {
      if (seen.has(value)) continue;
      seen.add(value);
      for (const child of Object.values(value)) stack.push(child);
    }
    if (keep(value)) out.push(value);
  }
  return out;
}

/**
 * In a worker thread (validate-fuzz.test.ts starts it): runs cases `from` to `to` of `seed`,
 * announcing each before it starts, so the test can tell a hang and which case hung.
 */
export function runWorker(): void {
  const { seed, from, to } = workerData as { seed: number; from: number; to: number };
  const seeds = seedFiles();
  for (let i = from; i < to; i++) {
    parentPort!.postMessage({ type: "start", index: i });
    parentPort!.postMessage({ type: "done", outcome: checkCase(fuzzCase(seed, i, seeds)) });
  }
  parentPort!.postMessage({ type: "end" });
}
