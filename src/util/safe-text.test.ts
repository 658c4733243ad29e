import { describe, expect, it } from "vitest";
import { safeJson, safeLine, safeStrings, safeText } from "./safe-text.js";

describe("safe text for terminals and CI logs", () => {
  it("shows control characters escaped instead of sending them", () => {
    expect(safeText("a\u001b[2Jb\rc\u0007d\u009be\u007f")).toBe("a\\x1b[2Jb\\x0dc\\x07d\\x9be\\x7f");
    expect(safeText("tab\tand\nnewline stay")).toBe("tab\tand\nnewline stay");
    expect(safeText("evil\u202egnp.exe")).toBe("evil\\u202egnp.exe");
  });

  it("never lets a line start a GitHub workflow command, even after spaces", () => {
    expect(safeText("::add-mask::x")).toBe("\\x3a:add-mask::x");
    expect(safeText("ok\n  ::stop-commands::t\n##[error]x")).toBe("ok\n  \\x3a:stop-commands::t\n\\x23#[error]x");
    expect(safeText("a::b and c :: d")).toBe("a::b and c :: d");
  });

  it("keeps one line one line", () => {
    expect(safeLine("name\n::error::pwned")).toBe("name\\n::error::pwned");
  });

  it("sanitises every string and key of a report, keeping its shape; keys named __proto__ stay keys", () => {
    const value = JSON.parse('{"a":["\\u001b[31m",1,null],"__proto__":{"\\u001bk":true}}') as unknown;
    const safe = safeStrings(value) as Record<string, unknown>;
    expect(safe).toEqual(JSON.parse('{"a":["\\\\x1b[31m",1,null],"__proto__":{"\\\\x1bk":true}}'));
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
  });

  it("JSON keeps parsing to the same value, without raw C1 or bidirectional controls", () => {
    const value = { s: "\u009b31m\u202e\u2028" };
    const text = safeJson(JSON.stringify(value));
    expect(text).not.toMatch(/[\u0080-\u009f\u202e\u2028]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
