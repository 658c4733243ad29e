// The SLO expression language, after k6 thresholds: `error_rate < 1%`, `p(99) < 800ms`.
//   expression := metric comparator threshold
//   metric     := "error_rate" | "p(" number ")"
//   comparator := "<" | "<=" | ">" | ">="
//   threshold  := error_rate: a fraction (0.01) or a percent (1%); p(..): a number with us, ms or s
// Errors carry the offset of the offending character so a problem can point inside the string.
import type { Comparator, SloExpression, SloMetric } from "./types.js";

export class SloExpressionError extends Error {
  override name = "SloExpressionError";
  /** 0-based offset into the expression where the problem starts. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const EXAMPLES = `e.g. "error_rate < 1%" or "p(99) < 800ms"`;
const LATENCY_UNITS_US: Record<string, number> = { us: 1, "µs": 1, ms: 1_000, s: 1_000_000 };
const COMPARATORS: readonly Comparator[] = ["<=", ">=", "<", ">"];

export function parseSloExpression(source: string): SloExpression {
  const parser = new Parser(source);
  const metric = parser.metric();
  const op = parser.comparator(metric);
  const threshold = parser.threshold(metric, op);
  parser.end();
  return { source: source.trim(), metric, op, threshold };
}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  metric(): SloMetric {
    this.skipSpace();
    if (this.pos >= this.text.length) throw this.error(`the expression is empty; ${EXAMPLES}`);
    const start = this.pos;
    const word = this.take(/[A-Za-z_][\w-]*/) ?? "";
    if (word === "error_rate") return { kind: "error_rate" };
    if (word === "p") return { kind: "percentile", percentile: this.percentile() };
    if (/^p\d/.test(word) || /^p\d/.test(this.text.slice(start))) {
      throw new SloExpressionError(`write percentiles as p(<n>), e.g. "p(99) < 800ms"`, start);
    }
    const found = word === "" ? this.describeNext() : `"${word}"`;
    if (/^error.?rate$/i.test(word)) throw new SloExpressionError(`unknown metric ${found}; did you mean "error_rate"?`, start);
    throw new SloExpressionError(`unknown metric ${found}; expected error_rate or p(<percentile>), ${EXAMPLES}`, start);
  }

  comparator(metric: SloMetric): Comparator {
    this.skipSpace();
    const op = COMPARATORS.find((c) => this.text.startsWith(c, this.pos));
    const reversed = /^=[<>]/.exec(this.text.slice(this.pos))?.[0];
    if (reversed !== undefined) throw this.error(`write "${reversed[1]}=" instead of "${reversed}"`);
    if (op === undefined) {
      throw this.error(`expected a comparator (<, <=, > or >=) after ${this.describeMetric(metric)}, found ${this.describeNext()}`);
    }
    this.pos += op.length;
    if (this.text[this.pos] === "=") throw this.error(`unexpected "=" after "${op}"; use <, <=, > or >=`);
    return op;
  }

  threshold(metric: SloMetric, op: Comparator): number {
    this.skipSpace();
    const start = this.pos;
    const numberText = this.take(/\d+(?:\.\d+)?/);
    if (numberText === undefined) {
      const example = metric.kind === "error_rate" ? "1%" : "800ms";
      throw this.error(`expected a threshold after "${op}", e.g. "${example}", found ${this.describeNext()}`);
    }
    const value = Number(numberText);
    const unitStart = this.pos;
    const unit = this.take(/%|µs|[A-Za-z]+/) ?? "";
    return metric.kind === "error_rate"
      ? this.errorRateThreshold(value, numberText, unit, start, unitStart)
      : this.latencyThreshold(value, numberText, unit, start, unitStart);
  }

  end(): void {
    this.skipSpace();
    if (this.pos < this.text.length) throw this.error(`unexpected ${this.describeNext()} after the threshold`);
  }

  private percentile(): number {
    this.skipSpace();
    if (!this.text.startsWith("(", this.pos)) throw this.error(`expected "(" after "p", e.g. "p(99)"`);
    this.pos += 1;
    this.skipSpace();
    const start = this.pos;
    const numberText = this.take(/\d+(?:\.\d+)?/);
    if (numberText === undefined) throw this.error(`expected a percentile such as 99 or 99.9 inside "p(...)", found ${this.describeNext()}`);
    const percentile = Number(numberText);
    if (!(percentile > 0 && percentile <= 100)) {
      throw new SloExpressionError(`a percentile must be greater than 0 and at most 100, found ${numberText}`, start);
    }
    this.skipSpace();
    if (!this.text.startsWith(")", this.pos)) throw this.error(`expected ")" after "p(${numberText}", found ${this.describeNext()}`);
    this.pos += 1;
    return percentile;
  }

  private errorRateThreshold(value: number, numberText: string, unit: string, start: number, unitStart: number): number {
    if (unit === "%") {
      if (value > 100) throw new SloExpressionError(`error_rate is at most 100%, found ${numberText}%`, start);
      return value / 100;
    }
    if (unit !== "") {
      throw new SloExpressionError(`error_rate takes a fraction (0.01) or a percent (1%), found unit "${unit}"`, unitStart);
    }
    if (value > 1) {
      throw new SloExpressionError(`error_rate is a fraction between 0 and 1 or a percent; write "${numberText}%" or ${value / 100}`, start);
    }
    return value;
  }

  private latencyThreshold(value: number, numberText: string, unit: string, start: number, unitStart: number): number {
    if (unit === "") throw new SloExpressionError(`the threshold ${numberText} needs a unit: us, ms or s, e.g. "${numberText}ms"`, start);
    const factor = LATENCY_UNITS_US[unit];
    if (factor === undefined) throw new SloExpressionError(`unknown latency unit "${unit}"; use us, ms or s`, unitStart);
    return Math.round(value * factor);
  }

  private describeMetric(metric: SloMetric): string {
    return metric.kind === "error_rate" ? `"error_rate"` : `"p(${metric.percentile})"`;
  }

  private describeNext(): string {
    const next = /^\S+/.exec(this.text.slice(this.pos))?.[0];
    return next === undefined ? "the end of the expression" : `"${next}"`;
  }

  private take(pattern: RegExp): string | undefined {
    const match = new RegExp(`^(?:${pattern.source})`).exec(this.text.slice(this.pos));
    if (!match) return undefined;
    this.pos += match[0].length;
    return match[0];
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? "")) this.pos += 1;
  }

  private error(message: string): SloExpressionError {
    return new SloExpressionError(message, this.pos);
  }
}
