// Docker Compose's variable interpolation and its env-file syntax, as documented
// (docs.docker.com/reference/compose-file/interpolation, .../environment-variables/env-file):
// `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`,
// `${VAR:+alt}`, `${VAR+alt}`, nested operands (`${A:-${B:-x}}`), `$$` for a dollar; env files
// with comments, `export`, single quotes (literal), double quotes (escapes, interpolation) and
// quoted values that span lines. What does not parse is a located error, never a guess.
// meshquake never reads the shell's environment: only the variables it is given.

export type Report = (message: string, severity: "error" | "warning") => void;

/** Interpolation inside interpolation: compose files need two or three levels. */
const MAX_NESTING = 16;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPERATORS = [":-", ":?", ":+", "-", "?", "+"] as const;

const NOT_READ = "meshquake does not read your environment (only the .env file beside the compose file)";

/** `text` with every variable replaced; problems go to `report`. */
export function interpolate(text: string, vars: Readonly<Record<string, string>>, report: Report): string {
  return new Interpolation(text, vars, report).until(false, 0, true);
}

class Interpolation {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly vars: Readonly<Record<string, string>>,
    private readonly report: Report,
  ) {}

  /**
   * Reads up to the end (or the "}" closing the enclosing expression). `live` is false inside an
   * operand that is not used (the default of a set variable): it is checked, not evaluated.
   */
  until(inBraces: boolean, depth: number, live: boolean): string {
    let out = "";
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (inBraces && c === "}") return out;
      if (c !== "$") {
        out += c;
        this.pos++;
        continue;
      }
      const next = this.text[this.pos + 1];
      if (next === "$") {
        out += "$";
        this.pos += 2;
      } else if (next === "{") {
        out += this.braced(depth, live);
      } else {
        NAME.lastIndex = this.pos + 1;
        const name = NAME.exec(this.text)?.[0];
        // A "$" that starts no variable stays as written.
        if (name === undefined) {
          out += "$";
          this.pos++;
          continue;
        }
        this.pos += 1 + name.length;
        out += this.lookup(name, `$${name}`, live);
      }
    }
    return out;
  }

  private braced(depth: number, live: boolean): string {
    const start = this.pos;
    this.pos += 2;
    if (depth >= MAX_NESTING) {
      this.report(`interpolation nested more than ${MAX_NESTING} levels deep in ${this.quote(start)}`, "error");
      this.pos = this.text.length;
      return "";
    }
    NAME.lastIndex = this.pos;
    const name = NAME.exec(this.text)?.[0] ?? "";
    this.pos += name.length;
    const op = OPERATORS.find((o) => this.text.startsWith(o, this.pos));
    if (name !== "" && this.pos >= this.text.length) return this.unterminated(start);
    if (name === "" || (op === undefined && this.text[this.pos] !== "}")) {
      const end = this.text.indexOf("}", this.pos);
      this.pos = end === -1 ? this.text.length : end + 1;
      this.report(`invalid interpolation ${JSON.stringify(this.text.slice(start, this.pos))}: Compose takes \${NAME}, \${NAME:-default}, \${NAME-default}, \${NAME:?error}, \${NAME?error}, \${NAME:+alternative} and \${NAME+alternative}`, "error");
      return "";
    }
    if (op === undefined) {
      this.pos++;
      return this.lookup(name, this.text.slice(start, this.pos), live);
    }
    this.pos += op.length;
    const value = this.variable(name);
    const unset = value === undefined || (op.startsWith(":") && value === "");
    const usesOperand = op.endsWith("+") ? !unset : unset;
    const operand = this.until(true, depth + 1, live && usesOperand);
    if (this.text[this.pos] !== "}") return this.unterminated(start);
    this.pos++;
    const whole = this.text.slice(start, this.pos);
    if (op.endsWith("-")) return unset ? operand : value!;
    if (op.endsWith("+")) return unset ? "" : operand;
    if (unset && live) {
      const why = operand === "" ? "" : ` (${operand})`;
      this.report(`${whole} requires ${name}${why}, and ${NOT_READ}; give it a default: \${${name}:-<value>}`, "error");
    }
    return value ?? "";
  }

  private unterminated(start: number): string {
    this.report(`unterminated interpolation ${this.quote(start)}: no closing "}"`, "error");
    this.pos = this.text.length;
    return "";
  }

  /** Own entries only: a variable named "constructor" is not Object.prototype's. */
  private variable(name: string): string | undefined {
    return Object.hasOwn(this.vars, name) ? this.vars[name] : undefined;
  }

  private lookup(name: string, whole: string, live: boolean): string {
    const value = this.variable(name);
    if (value === undefined && live) {
      this.report(`${whole} is not set: ${NOT_READ}, so it is empty here; give it a default: \${${name}:-<value>}`, "warning");
    }
    return value ?? "";
  }

  private quote(start: number): string {
    const rest = this.text.slice(start);
    return JSON.stringify(rest.length > 60 ? `${rest.slice(0, 57)}...` : rest);
  }
}

// --- env files -----------------------------------------------------------------------------

export interface EnvFileProblem {
  severity: "error" | "warning";
  /** 1-based, in the env file. */
  line: number;
  col: number;
  message: string;
}

export interface EnvFile {
  values: Record<string, string>;
  problems: EnvFileProblem[];
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"' };

/**
 * KEY=VALUE lines as Compose reads them. Unquoted and double-quoted values are interpolated with
 * the variables defined before them (and `outer`, e.g. the .env file's for an env_file).
 */
export function parseEnvFile(text: string, outer: Readonly<Record<string, string>> = {}): EnvFile {
  const values: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  let pos = 0;
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const where = (offset: number) => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= offset) line++;
    return { line: line + 1, col: offset - lineStarts[line]! + 1 };
  };
  const problem = (offset: number, message: string, severity: EnvFileProblem["severity"] = "error") =>
    problems.push({ severity, ...where(offset), message });
  const lineEnd = (from: number) => {
    const end = text.indexOf("\n", from);
    return end === -1 ? text.length : end;
  };

  while (pos < text.length) {
    const end = lineEnd(pos);
    const line = text.slice(pos, end).replace(/\r$/, "");
    const indent = line.length - line.trimStart().length;
    const body = line.trimStart().replace(/^export\s+/, "");
    const keyStart = pos + line.length - body.length;
    if (body === "" || body.startsWith("#")) {
      pos = end + 1;
      continue;
    }
    const eq = body.indexOf("=");
    const key = (eq === -1 ? body : body.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) || key === "__proto__") {
      problem(pos + indent, `${JSON.stringify(key)} is not a variable name; expected KEY=VALUE`);
      pos = end + 1;
      continue;
    }
    if (eq === -1) {
      problem(keyStart, `${key} has no value, so Compose would take it from your shell; ${NOT_READ}. Give it a value`, "warning");
      pos = end + 1;
      continue;
    }
    let valueStart = keyStart + eq + 1;
    while (text[valueStart] === " " || text[valueStart] === "\t") valueStart++;
    const quote = text[valueStart];
    const vars = { ...outer, ...values };
    const report: Report = (message, severity) => problem(valueStart, `${key}: ${message}`, severity);
    if (quote === '"' || quote === "'") {
      const close = closingQuote(text, valueStart);
      if (close === -1) {
        problem(valueStart, `${key}: the ${quote === '"' ? "double" : "single"} quote opened here is never closed`);
        break;
      }
      const raw = text.slice(valueStart + 1, close);
      values[key] = quote === "'" ? raw.replace(/\\'/g, "'") : interpolate(raw.replace(/\\(.)/gs, (m, c: string) => ESCAPES[c] ?? m), vars, report);
      const after = lineEnd(close);
      const rest = text.slice(close + 1, after).replace(/\r$/, "").trim();
      if (rest !== "" && !rest.startsWith("#")) problem(close + 1, `${key}: unexpected ${JSON.stringify(rest)} after the closing quote`);
      pos = after + 1;
      continue;
    }
    // Unquoted: to the end of the line; " #" starts a comment.
    const raw = text.slice(valueStart, end).replace(/\r$/, "").replace(/\s+#.*$/, "").trim();
    values[key] = interpolate(raw, vars, report);
    pos = end + 1;
  }
  return { values, problems };
}

/** The offset of the quote closing the one at `start` (a backslash escapes a quote), or -1. */
function closingQuote(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}
