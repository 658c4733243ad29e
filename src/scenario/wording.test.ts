import { describe, expect, it } from "vitest";
import { closest, editDistance, withSuggestion } from "./wording.js";

describe("suggestions", () => {
  it("counts a swap of neighbours as one edit", () => {
    expect(editDistance("abrot", "abort")).toBe(1);
    expect(editDistance("paymnt", "payments")).toBe(2);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests only names that are close", () => {
    expect(closest("paymnt", ["frontend", "checkout", "payments"])).toBe("payments");
    expect(closest("get", ["GET", "POST"])).toBe("GET");
    expect(closest("gateway", ["frontend", "payments"])).toBeUndefined();
  });

  it("words a suggestion with or without a tail", () => {
    expect(withSuggestion(`unknown service "paymnt"`, "paymnt", ["payments"], "Known: x.")).toBe(
      `unknown service "paymnt"; did you mean "payments"? Known: x.`,
    );
    expect(withSuggestion(`unknown service "zzz"`, "zzz", ["payments"], "Known: x.")).toBe(`unknown service "zzz". Known: x.`);
    expect(withSuggestion("bad", "zzz", ["payments"])).toBe("bad");
  });
});
