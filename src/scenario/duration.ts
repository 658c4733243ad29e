// Durations as scenarios write them ("250ms", "2s", "1m30s", "1.5s") and latency ranges
// ("2ms..20ms"). The schema's JSON-Schema patterns and the parser share one grammar, so an
// editor and `meshquake validate` can never disagree about what a duration is.
import type { LatencyRange } from "./types.js";

const NUMBER = String.raw`\d+(?:\.\d+)?`;
/** Units largest first; each may appear at most once, in this order. */
const UNITS = [
  { unit: "h", ms: 3_600_000 },
  { unit: "m", ms: 60_000 },
  { unit: "s", ms: 1_000 },
  { unit: "ms", ms: 1 },
] as const;

const DURATION_BODY = `(?=\\d)${UNITS.map(({ unit }) => `(?:(${NUMBER})${unit})?`).join("")}`;
const DURATION_RE = new RegExp(`^${DURATION_BODY}$`);

/** JSON-Schema (ECMA-262) pattern for a duration. */
export const DURATION_PATTERN = `^${nonCapturing(DURATION_BODY)}$`;
/** JSON-Schema pattern for a duration or a range "<min>..<max>". */
export const DURATION_OR_RANGE_PATTERN = `^${nonCapturing(DURATION_BODY)}(?:\\.\\.${nonCapturing(DURATION_BODY)})?$`;

export const DURATION_EXAMPLES = `"250ms", "2s" or "1m30s"`;

export class DurationError extends Error {
  override name = "DurationError";
}

/** "1m30s" → 90000. Throws DurationError with a message a user can act on. */
export function parseDuration(text: string): number {
  const match = DURATION_RE.exec(text);
  if (!match) throw new DurationError(explainBadDuration(text));
  let ms = 0;
  UNITS.forEach(({ ms: factor }, i) => {
    const amount = match[i + 1];
    if (amount !== undefined) ms += Number(amount) * factor;
  });
  // Decimal fractions ("0.7s") are not exact in binary; microsecond precision is plenty.
  return Math.round(ms * 1000) / 1000;
}

/** "5ms" → {5, 5}; "2ms..20ms" → {2, 20}. */
export function parseDurationOrRange(text: string): LatencyRange {
  const parts = text.split("..");
  if (parts.length > 2) throw new DurationError(`expected a duration or a range like "2ms..20ms", found "${text}"`);
  const [minText = "", maxText] = parts;
  const minMs = parseDuration(minText);
  if (maxText === undefined) return { minMs, maxMs: minMs };
  const maxMs = parseDuration(maxText);
  if (maxMs < minMs) {
    throw new DurationError(`the range "${text}" runs backwards; write the shorter duration first: "${maxText}..${minText}"`);
  }
  return { minMs, maxMs };
}

/** 90000 → "1m30s", 250 → "250ms", 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${Math.round(ms * 100) / 100}ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const { unit, ms: factor } of UNITS.slice(0, 2)) {
    const whole = Math.floor(rest / factor);
    if (whole > 0) parts.push(`${whole}${unit}`);
    rest -= whole * factor;
  }
  if (rest > 0) parts.push(`${Math.round(rest) / 1000}s`);
  return parts.join("");
}

function explainBadDuration(text: string): string {
  const found = JSON.stringify(text);
  if (text.trim() === "") return `expected a duration like ${DURATION_EXAMPLES}, found an empty string`;
  if (text.startsWith("-")) return `a duration cannot be negative, found ${found}`;
  if (/\s/.test(text)) return `write durations without spaces, e.g. "${text.replace(/\s+/g, "")}", found ${found}`;
  if (/^\d+(?:\.\d+)?$/.test(text)) return missingUnit(text);
  const unit = /^\d+(?:\.\d+)?([^\d\s.]+)$/.exec(text)?.[1];
  if (unit !== undefined && !UNITS.some((u) => u.unit === unit)) {
    return `unknown unit "${unit}" in ${found}; use ms, s, m or h, e.g. ${DURATION_EXAMPLES}`;
  }
  if (/^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/.test(text)) {
    return `write each unit once, largest first (e.g. "1m30s"), found ${found}`;
  }
  return `expected a duration like ${DURATION_EXAMPLES}, found ${found}`;
}

/** Also used for YAML numbers written where a duration belongs (`duration: 30`). */
export function missingUnit(amount: string | number): string {
  return `a duration needs a unit, e.g. "${amount}s" or "${amount}ms", found ${JSON.stringify(amount)}`;
}

function nonCapturing(body: string): string {
  return body.replaceAll(`(${NUMBER})`, NUMBER);
}
