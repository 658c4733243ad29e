import { describe, expect, it } from "vitest";
import { parseSloExpression, SloExpressionError } from "./slo-expression.js";

describe("parseSloExpression", () => {
  it.each([
    ["error_rate < 1%", { kind: "error_rate" }, "<", 0.01],
    ["error_rate<0.01", { kind: "error_rate" }, "<", 0.01],
    ["error_rate <= 0.5%", { kind: "error_rate" }, "<=", 0.005],
    ["p(99) < 800ms", { kind: "percentile", percentile: 99 }, "<", 800_000],
    ["p(99.9) <= 1s", { kind: "percentile", percentile: 99.9 }, "<=", 1_000_000],
    ["p(50) > 10ms", { kind: "percentile", percentile: 50 }, ">", 10_000],
    ["p( 90 ) >= 250us", { kind: "percentile", percentile: 90 }, ">=", 250],
    ["p(100) < 1.5ms", { kind: "percentile", percentile: 100 }, "<", 1500],
  ])("%s", (source, metric, op, threshold) => {
    expect(parseSloExpression(source)).toEqual({ source, metric, op, threshold });
  });

  it("keeps the source as written, without surrounding space", () => {
    expect(parseSloExpression("  p(99) < 800ms ").source).toBe("p(99) < 800ms");
  });

  it.each([
    ["", 0, `the expression is empty; e.g. "error_rate < 1%" or "p(99) < 800ms"`],
    ["latency < 800ms", 0, `unknown metric "latency"; expected error_rate or p(<percentile>), e.g. "error_rate < 1%" or "p(99) < 800ms"`],
    ["error-rate < 1%", 0, `unknown metric "error-rate"; did you mean "error_rate"?`],
    ["p99 < 800ms", 0, `write percentiles as p(<n>), e.g. "p(99) < 800ms"`],
    ["p(99 < 800ms", 5, `expected ")" after "p(99", found "<"`],
    ["p() < 800ms", 2, `expected a percentile such as 99 or 99.9 inside "p(...)", found ")"`],
    ["p(120) < 800ms", 2, `a percentile must be greater than 0 and at most 100, found 120`],
    ["p(99) = 800ms", 6, `expected a comparator (<, <=, > or >=) after "p(99)", found "="`],
    ["p(99) =< 800ms", 6, `write "<=" instead of "=<"`],
    ["p(99) == 800ms", 6, `expected a comparator (<, <=, > or >=) after "p(99)", found "=="`],
    ["p(99) <", 7, `expected a threshold after "<", e.g. "800ms", found the end of the expression`],
    ["p(99) < 800", 8, `the threshold 800 needs a unit: us, ms or s, e.g. "800ms"`],
    ["p(99) < 800sec", 11, `unknown latency unit "sec"; use us, ms or s`],
    ["error_rate < 5", 13, `error_rate is a fraction between 0 and 1 or a percent; write "5%" or 0.05`],
    ["error_rate < 150%", 13, `error_rate is at most 100%, found 150%`],
    ["error_rate < 1ms", 14, `error_rate takes a fraction (0.01) or a percent (1%), found unit "ms"`],
    ["error_rate < 1% or more", 16, `unexpected "or" after the threshold`],
  ])("%j fails at offset %d", (source, offset, message) => {
    let thrown: unknown;
    try {
      parseSloExpression(source);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(SloExpressionError);
    expect({ offset: (thrown as SloExpressionError).offset, message: (thrown as Error).message }).toEqual({ offset, message });
  });
});
