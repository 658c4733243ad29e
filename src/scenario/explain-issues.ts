// zod issues → findings a user can act on: the path, what was found and what is allowed.
// Our schemas word their own messages (spec.ts); every other issue gets the DEFAULT_MESSAGE
// marker at parse time and is worded here from the issue's data.
import { z } from "zod";
import { error, type Finding } from "./finding.js";
import type { DocPath } from "./locate.js";
import { describeValue, quoteList, withSuggestion } from "./wording.js";

const DEFAULT_MESSAGE = "\u0000meshquake:default-message";

/** Options for every safeParse whose issues go through explainIssues. */
export const PARSE_OPTIONS = { reportInput: true, error: () => DEFAULT_MESSAGE } as const;

type Issue = z.core.$ZodIssue;

interface Context {
  root: z.ZodType;
  data: unknown;
  /** Union branch chosen at a path ("checks.0" → 1), so allowed keys come from that branch. */
  branches: Map<string, number>;
  /** Unions met while walking the schema, by path: an unknown key may belong to a sibling option. */
  unions: Map<string, z.ZodUnion>;
}

export function explainIssues(issues: readonly Issue[], root: z.ZodType, data: unknown): Finding[] {
  const context: Context = { root, data, branches: new Map(), unions: new Map() };
  return issues.flatMap((issue) => explain(issue, [], context));
}

/**
 * zod skips a `__proto__` key in records and catch-alls (assigning it would replace the
 * prototype), so a service, variable or header of that name would vanish without a word. Each
 * one is reported like any other bad name, with the record's own message for its keys; in a
 * strict map zod reports it as an unknown key already. The walk is iterative and visits a node
 * shared through YAML aliases once.
 */
export function hiddenKeyFindings(root: z.ZodType, data: unknown): Finding[] {
  const context: Context = { root, data, branches: new Map(), unions: new Map() };
  const findings: Finding[] = [];
  const seen = new Set<object>();
  const stack: { value: unknown; path: DocPath }[] = [{ value: data, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== "object" || value === null || seen.has(value)) continue;
    seen.add(value);
    if (!Array.isArray(value) && Object.hasOwn(value, PROTO)) {
      const schema = schemaAt(context, path);
      if (schema instanceof z.ZodRecord) {
        const key = (schema.keyType as z.ZodType).safeParse(PROTO, PARSE_OPTIONS);
        const message = key.success || key.error.issues[0]?.message === DEFAULT_MESSAGE ? undefined : key.error.issues[0]?.message;
        findings.push(error([...path, PROTO], message ?? `"${PROTO}" cannot be used as a name here (it would be lost on the way); choose another`, { at: "key" }));
      }
    }
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    for (const [key, child] of entries) stack.push({ value: child, path: [...path, key] });
  }
  return findings;
}

const PROTO = "__proto__";

function explain(issue: Issue, base: DocPath, context: Context): Finding[] {
  const path = [...base, ...issue.path.map(pathSegment)];
  const own = issue.message !== DEFAULT_MESSAGE ? issue.message : undefined;
  const input = "input" in issue ? issue.input : valueAt(context.data, path);

  const locatedElsewhere = issue.code === "unrecognized_keys" || issue.code === "invalid_key" || "discriminator" in issue;
  if (!locatedElsewhere && isMissing(context.data, path)) {
    const key = path.at(-1);
    return [error(path.slice(0, -1), typeof key === "number" ? `missing item ${key}` : `missing required key "${key}"`)];
  }

  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(schemaAt(context, path));
      const union = context.unions.get(pathKey(path));
      return issue.keys.map((key) => error([...path, key], unknownKey(key, allowed, union, input), { at: "key" }));
    }
    case "invalid_union": {
      if ("discriminator" in issue && issue.discriminator !== undefined) {
        return [discriminatorProblem(path, issue.discriminator, (issue as { options?: unknown[] }).options ?? [], context)];
      }
      const branch = closestBranch(issue.errors, input);
      if (branch === undefined) return [error(path, own ?? `${describeValue(input)} does not match any allowed form`)];
      context.branches.set(pathKey(path), branch);
      return (issue.errors[branch] ?? []).flatMap((inner) => explain(inner, path, context));
    }
    case "invalid_key": {
      const inner = issue.issues.find((i) => i.message !== DEFAULT_MESSAGE);
      return [error(path, inner?.message ?? own ?? `invalid key ${describeValue(path.at(-1))}`, { at: "key" })];
    }
    case "invalid_type":
      return [error(path, own ?? `expected ${expectedPhrase(issue.expected)}, found ${describeValue(input)}`)];
    default:
      return [error(path, own ?? defaultMessage(issue, input))];
  }
}

function defaultMessage(issue: Issue, input: unknown): string {
  switch (issue.code) {
    case "too_small":
      if (issue.origin === "array") return issue.minimum === 1 ? "must not be empty" : `needs at least ${issue.minimum} items, found ${describeValue(input)}`;
      if (issue.origin === "string") return issue.minimum === 1 ? "must not be empty" : `needs at least ${issue.minimum} characters`;
      return `must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}, found ${describeValue(input)}`;
    case "too_big":
      if (issue.origin === "array") return `has more than ${issue.maximum} items`;
      return `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}, found ${describeValue(input)}`;
    case "invalid_value": {
      const values = issue.values.map(String);
      if (values.length === 1) return `expected ${quoteList(values)}, found ${describeValue(input)}`;
      return suggest(`expected one of ${quoteList(values)}, found ${describeValue(input)}`, input, values);
    }
    default:
      return `${describeValue(input)} is not valid here`;
  }
}

function discriminatorProblem(path: DocPath, key: string, options: readonly unknown[], context: Context): Finding {
  const allowed = options.map(String);
  const found = valueAt(context.data, path);
  if (found === undefined) {
    return error(path.slice(0, -1), `missing required key "${key}"; one of ${quoteList(allowed)}`);
  }
  return error(path, suggest(`expected one of ${quoteList(allowed)}, found ${describeValue(found)}`, found, allowed));
}

function unknownKey(key: string, allowed: readonly string[], union: z.ZodUnion | undefined, value: unknown): string {
  if (allowed.length === 0) return `unknown key ${describeValue(key)}`;
  const owners = union ? kindsWithKey(union, key) : [];
  const discriminator = union ? discriminatorOf(union) : undefined;
  if (owners.length > 0 && discriminator !== undefined && isPlainObject(value)) {
    const head = `unknown key ${describeValue(key)} for ${discriminator} ${describeValue(value[discriminator])}; it belongs to ${discriminator} ${quoteList(owners)}`;
    return `${head}. Allowed keys: ${quoteList(allowed)}.`;
  }
  return withSuggestion(`unknown key ${describeValue(key)}`, key, allowed, `Allowed keys: ${quoteList(allowed)}.`);
}

/** In a discriminated union, the discriminator values of the options that do have `key`. */
function kindsWithKey(union: z.ZodUnion, key: string): string[] {
  const discriminator = discriminatorOf(union);
  if (discriminator === undefined) return [];
  return (union.options as readonly z.ZodType[]).flatMap((option) => {
    if (!(option instanceof z.ZodObject)) return [];
    const shape = option.shape as Record<string, z.ZodType>;
    const literal = shape[discriminator];
    return key in shape && literal instanceof z.ZodLiteral ? [...literal.values].map(String) : [];
  });
}

function discriminatorOf(union: z.ZodUnion): string | undefined {
  return (union.def as { discriminator?: string }).discriminator;
}

function suggest(message: string, found: unknown, candidates: readonly string[]): string {
  return typeof found === "string" ? withSuggestion(message, found, candidates) : message;
}

/**
 * The union branch the user evidently meant: the only one whose required keys are all present,
 * or among several such, the one with the fewest problems. When the value has the required keys
 * of no branch, or fits two equally, undefined: the union's own message says what the forms are.
 */
function closestBranch(branches: readonly (readonly Issue[])[], input: unknown): number | undefined {
  if (!isPlainObject(input)) return undefined;
  const costs = branches.map((issues) => {
    const missingKey = issues.some((issue) => issue.path.length === 1 && !(String(issue.path[0]) in input));
    if (missingKey) return Number.POSITIVE_INFINITY;
    return issues.reduce((cost, issue) => cost + (issue.code === "unrecognized_keys" ? issue.keys.length : 1), 0);
  });
  const best = Math.min(...costs);
  if (best === Number.POSITIVE_INFINITY || costs.filter((c) => c === best).length > 1) return undefined;
  return costs.indexOf(best);
}

// --- walking the schema --------------------------------------------------------------------

function schemaAt(context: Context, path: DocPath): z.ZodType | undefined {
  let schema: z.ZodType | undefined = unwrap(context.root, [], context);
  for (const [i, segment] of path.entries()) {
    if (schema instanceof z.ZodObject) {
      // An object with a catchall (policies: `istio` plus any service name) takes other keys' schema from it.
      schema = (schema.shape as Record<string, z.ZodType>)[String(segment)] ?? (schema.def.catchall as z.ZodType | undefined);
    }
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodTuple) schema = schema.def.items[Number(segment)] as z.ZodType | undefined;
    else return undefined;
    if (schema !== undefined) schema = unwrap(schema, path.slice(0, i + 1), context);
  }
  return schema;
}

function unwrap(schema: z.ZodType, path: DocPath, context: Context): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else if (current instanceof z.ZodUnion) {
      context.unions.set(pathKey(path), current);
      const options = current.options as readonly z.ZodType[];
      const index: number | undefined = context.branches.get(pathKey(path)) ?? branchByKeys(current, options, valueAt(context.data, path));
      current = index === undefined ? undefined : options[index];
    } else {
      return current;
    }
  }
}

/** For issues zod reports straight from one branch: the branch whose keys the value uses. */
function branchByKeys(union: z.ZodUnion, options: readonly z.ZodType[], value: unknown): number | undefined {
  if (!isPlainObject(value)) return undefined;
  const discriminator = discriminatorOf(union);
  if (discriminator !== undefined) {
    const index = options.findIndex((o) => {
      const literal = o instanceof z.ZodObject ? (o.shape as Record<string, z.ZodType>)[discriminator] : undefined;
      return literal instanceof z.ZodLiteral && literal.values.has(value[discriminator] as never);
    });
    return index === -1 ? undefined : index;
  }
  const scores = options.map((o) => {
    if (!(o instanceof z.ZodObject)) return -1;
    const shape = o.shape as Record<string, z.ZodType>;
    return Object.keys(value).reduce((score, key) => {
      const field = shape[key];
      if (field === undefined) return score;
      return score + (field instanceof z.ZodOptional ? 1 : 10);
    }, 0);
  });
  const best = Math.max(...scores);
  return best > 0 && scores.filter((s) => s === best).length === 1 ? scores.indexOf(best) : undefined;
}

function allowedKeys(schema: z.ZodType | undefined): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : [];
}

// --- small helpers -------------------------------------------------------------------------

function valueAt(data: unknown, path: DocPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/** The key is absent from a map that exists (not merely written with an empty value). */
function isMissing(data: unknown, path: DocPath): boolean {
  const parent = valueAt(data, path.slice(0, -1));
  const key = path.at(-1);
  return isPlainObject(parent) && key !== undefined && !(String(key) in parent);
}

function pathSegment(segment: PropertyKey): string | number {
  return typeof segment === "number" ? segment : String(segment);
}

function pathKey(path: DocPath): string {
  return path.join("\u0001");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function expectedPhrase(expected: string): string {
  const phrases: Record<string, string> = {
    number: "a number",
    int: "a whole number",
    string: "a string",
    boolean: "true or false",
    object: "a map",
    array: "a list",
    record: "a map",
    tuple: "a list",
  };
  return phrases[expected] ?? expected;
}
