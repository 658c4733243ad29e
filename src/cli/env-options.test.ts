import { describe, expect, it } from "vitest";
import { optionValue, parseSeed, pullValue, seedValue } from "./env-options.js";
import { UsageError } from "./usage-error.js";

describe("options from the environment", () => {
  it("a flag wins over its variable, which wins over the default; an empty variable is unset", () => {
    expect(optionValue("flag", { MESHQUAKE_OUT: "env" }, "out", "reports")).toBe("flag");
    expect(optionValue(undefined, { MESHQUAKE_OUT: "env" }, "out", "reports")).toBe("env");
    expect(optionValue(undefined, { MESHQUAKE_OUT: "" }, "out", "reports")).toBe("reports");
    expect(optionValue(undefined, { MESHQUAKE_REPORTER: "json" }, "reporter", "console")).toBe("json");
  });

  it("MESHQUAKE_SEED is checked as --seed is, and the error names the variable", () => {
    expect(seedValue(3, { MESHQUAKE_SEED: "9" })).toBe(3);
    expect(seedValue(undefined, { MESHQUAKE_SEED: "9" })).toBe(9);
    expect(seedValue(undefined, {})).toBeUndefined();
    expect(() => seedValue(undefined, { MESHQUAKE_SEED: "-1" })).toThrow(new UsageError('MESHQUAKE_SEED must be a non-negative integer, found "-1"'));
  });

  it("a seed is a non-negative safe integer", () => {
    expect([parseSeed("0"), parseSeed("42"), parseSeed(" "), parseSeed("1.5"), parseSeed("1e300"), parseSeed("x")]).toEqual([0, 42, null, null, null, null]);
  });
});

describe("MESHQUAKE_PULL", () => {
  it("sets --pull's default; the flag wins; anything else is a usage error naming the policies", () => {
    expect(pullValue(undefined, {})).toBe("missing");
    expect(pullValue(undefined, { MESHQUAKE_PULL: "never" })).toBe("never");
    expect(pullValue("always", { MESHQUAKE_PULL: "never" })).toBe("always");
    expect(() => pullValue(undefined, { MESHQUAKE_PULL: "sometimes" })).toThrow(new UsageError('MESHQUAKE_PULL must be one of missing, never, always, found "sometimes"'));
  });
});
