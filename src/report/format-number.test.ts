import { describe, expect, it } from "vitest";
import {
  cssPercent,
  formatCount,
  formatLatencyUs,
  formatMs,
  formatPercent,
  formatSeconds,
  formatThreshold,
  formatValue,
  pageDurationMs,
  pageEvidenceValue,
  pageLatencyUs,
  pageOffsetMs,
  pagePercent,
  pageValue,
} from "./format-number.js";

describe("the text voice", () => {
  it("formats fractions as percents and microseconds as the readable unit", () => {
    expect([0.0042, 0.01, 0.5, 0, 0.00001, 1].map(formatPercent)).toEqual(["0.42%", "1%", "50%", "0%", "0.001%", "100%"]);
    expect([850, 812_300, 20_623, 1_250_000, 60_000_000].map(formatLatencyUs)).toEqual(["850µs", "812.3ms", "20.6ms", "1.25s", "60s"]);
    expect([850, 10_020].map(formatMs)).toEqual(["850ms", "10.02s"]);
    expect(formatValue(3_000, "ms")).toBe("3.00s");
    expect(formatValue(1.234, "ratio")).toBe("1.23");
  });

  it("prints a threshold as the user wrote it", () => {
    expect(formatThreshold(800_000, "us")).toBe("800ms");
    expect(formatThreshold(3_000, "ms")).toBe("3s");
    expect(formatThreshold(2_500, "ms")).toBe("2.50s");
    expect(formatThreshold(0.01, "fraction")).toBe("1%");
  });

  it("gives machine formats bare seconds", () => {
    expect(formatSeconds(12_345, 3)).toBe("12.345");
  });
});

describe("the page voice", () => {
  it("spaces units and groups thousands", () => {
    expect(formatCount(1_234_567)).toBe("1,234,567");
    expect([0.0123, 0.000001, 0].map(pagePercent)).toEqual(["1.23%", "<0.001%", "0%"]);
    expect([912_400, 450].map(pageLatencyUs)).toEqual(["912 ms", "0.45 ms"]);
    expect([850, 2_300, 90_000].map(pageDurationMs)).toEqual(["850 ms", "2.3 s", "1m 30s"]);
    expect([10_250, 95_000].map(pageOffsetMs)).toEqual(["10.25 s", "1m 35s"]);
    expect(pageValue(null, "us")).toBe("—");
    expect(pageValue(1.5, "ratio")).toBe("1.5×");
    expect(pageEvidenceValue("lagP99Us", 3_400)).toBe("3.4 ms");
    expect(cssPercent(0.4567)).toBe("45.7%");
  });
});
