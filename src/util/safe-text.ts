// Text that came from a user (a scenario, a report.json, an app's output, a file name) on its way
// to a terminal or a CI log. A raw control character can rewrite the screen (ESC starts a
// terminal escape, CR overwrites the line), a bidirectional override can reorder what is read,
// and a line that starts with "::" is a command to GitHub Actions (`::add-mask::`, `::error::`,
// `::stop-commands::`). Every text output passes user text through here: the console and
// Markdown reporters, the GitHub annotations and the CLI's own messages.

/** C0 controls but tab and newline, DEL, C1 controls, bidirectional controls and invisible characters. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
/** A line GitHub Actions reads as a workflow command (it trims leading whitespace first). */
const WORKFLOW_COMMAND = /^(\s*)(::|##\[)/gm;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Several lines: newlines and tabs stay, every other control is shown escaped (\x1b), no line starts a workflow command. */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escapeChar).replace(WORKFLOW_COMMAND, (_, space: string, start: string) => `${space}\\x${start.charCodeAt(0).toString(16)}${start.slice(1)}`);
}

/** One line: like safeText, and a newline is shown escaped too, so the text cannot start a line of its own. */
export function safeLine(text: string): string {
  return safeText(text.replace(/\n/g, "\\n"));
}

/** A copy of `value` with every string (keys included) through safeText: what a text reporter renders. */
export function safeStrings<T>(value: T): T {
  if (typeof value === "string") return safeText(value) as T;
  if (Array.isArray(value)) return value.map(safeStrings) as T;
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    Object.defineProperty(out, safeText(key), { value: safeStrings(entry), enumerable: true, writable: true, configurable: true });
  }
  return out as T;
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but leaves DEL, C1 and the
 * bidirectional controls raw; they are escaped here, so the JSON still parses to the same value.
 */
export function safeJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
