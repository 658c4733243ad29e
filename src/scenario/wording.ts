// Small helpers that keep every message worded the same way.

/** How a value the user wrote reads inside a message: "abc" → `"abc"`, 150 → `150`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return value.length === 1 ? "a list of 1 item" : `a list of ${value.length} items`;
  if (typeof value === "object") return "a map";
  return String(value);
}

/** ["a", "b"] → `"a", "b"`; past 20 values, `..., and 31 more`. */
export function quoteList(values: readonly (string | number)[]): string {
  const shown = values.slice(0, 20).map((v) => JSON.stringify(String(v)));
  return values.length > shown.length ? `${shown.join(", ")} and ${values.length - shown.length} more` : shown.join(", ");
}

/**
 * `<head>; did you mean "payments"? <tail>` when one candidate is close to what was written,
 * else `<head>. <tail>`; without a tail, just the head and the suggestion.
 */
export function withSuggestion(head: string, written: string, candidates: readonly string[], tail = ""): string {
  const best = closest(written, candidates);
  const suggestion = best === undefined ? "" : `; did you mean ${JSON.stringify(best)}?`;
  if (tail === "") return `${head}${suggestion}`;
  return `${head}${suggestion === "" ? "." : suggestion} ${tail}`;
}

export function closest(written: string, candidates: readonly string[]): string | undefined {
  const lower = written.toLowerCase();
  const budget = Math.max(1, Math.floor(written.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of new Set(candidates)) {
    // The distance is at least the difference in length: no need to compute it.
    if (Math.abs(name.length - written.length) > budget) continue;
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= budget && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Edits (insert, delete, substitute, swap two neighbours) to turn a into b: "abrot" → "abort" is 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}
