import { describe, expect, it } from "vitest";
import {
  DURATION_OR_RANGE_PATTERN,
  DURATION_PATTERN,
  DurationError,
  formatDuration,
  parseDuration,
  parseDurationOrRange,
} from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["250ms", 250],
    ["2s", 2000],
    ["1.5s", 1500],
    ["0.7s", 700],
    ["1m30s", 90_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1m0.5s", 60_500],
    ["0s", 0],
    ["1.25ms", 1.25],
  ])("%s → %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ["", `expected a duration like "250ms", "2s" or "1m30s", found an empty string`],
    ["10", `a duration needs a unit, e.g. "10s" or "10ms", found "10"`],
    ["10sec", `unknown unit "sec" in "10sec"; use ms, s, m or h, e.g. "250ms", "2s" or "1m30s"`],
    ["-1s", `a duration cannot be negative, found "-1s"`],
    ["1 s", `write durations without spaces, e.g. "1s", found "1 s"`],
    ["30s1m", `write each unit once, largest first (e.g. "1m30s"), found "30s1m"`],
    ["1s1s", `write each unit once, largest first (e.g. "1m30s"), found "1s1s"`],
    [".5s", `expected a duration like "250ms", "2s" or "1m30s", found ".5s"`],
  ])("rejects %j", (text, message) => {
    expect(() => parseDuration(text)).toThrow(new DurationError(message));
  });

  it("agrees with the JSON-Schema pattern editors use", () => {
    const pattern = new RegExp(DURATION_PATTERN);
    for (const text of ["250ms", "1m30s", "1.5s", "1h2m3s4ms", "10", "10sec", "1s1m", "", "2ms..20ms", "5 ms", "-1s"]) {
      const parses = (() => {
        try {
          parseDuration(text);
          return true;
        } catch {
          return false;
        }
      })();
      expect(pattern.test(text), text).toBe(parses);
    }
  });
});

describe("parseDurationOrRange", () => {
  it("reads a single duration as a zero-width range", () => {
    expect(parseDurationOrRange("5ms")).toEqual({ minMs: 5, maxMs: 5 });
  });

  it("reads a range", () => {
    expect(parseDurationOrRange("2ms..20ms")).toEqual({ minMs: 2, maxMs: 20 });
    expect(parseDurationOrRange("500ms..1.5s")).toEqual({ minMs: 500, maxMs: 1500 });
  });

  it("rejects a range that runs backwards", () => {
    expect(() => parseDurationOrRange("20ms..2ms")).toThrow(`the range "20ms..2ms" runs backwards; write the shorter duration first: "2ms..20ms"`);
  });

  it("rejects a bad end with the duration's own message", () => {
    expect(() => parseDurationOrRange("2ms..20")).toThrow(`a duration needs a unit, e.g. "20s" or "20ms", found "20"`);
    expect(() => parseDurationOrRange("1ms..2ms..3ms")).toThrow(DurationError);
  });

  it("agrees with the JSON-Schema pattern", () => {
    const pattern = new RegExp(DURATION_OR_RANGE_PATTERN);
    expect(["5ms", "2ms..20ms", "1s..1m"].every((t) => pattern.test(t))).toBe(true);
    expect(["2ms..", "..2ms", "2ms...20ms", "2ms..20"].some((t) => pattern.test(t))).toBe(false);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [250, "250ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
