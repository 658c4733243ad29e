import { describe, expect, it } from "vitest";
import { LineCounter, parseDocument } from "yaml";
import { locate, type DocPath, type LocateOptions } from "./locate.js";

const TEXT = `name: demo
services:
  frontend:
    calls: [checkout]
  checkout:
    replicas:
faults:
  - name: abort
    kind: abort
    target: payments
  - { name: slow, kind: delay }
checks:
  - slo: "p(99) =< 800ms"
  - slo: p(99) =< 800ms
`;

function at(path: DocPath, options?: LocateOptions) {
  const lines = new LineCounter();
  const doc = parseDocument(TEXT, { lineCounter: lines });
  return locate(doc, lines, path, options);
}

describe("locate", () => {
  it("points at a value", () => {
    expect(at(["name"])).toEqual({ line: 1, col: 7 });
    expect(at(["faults", 0, "target"])).toEqual({ line: 10, col: 13 });
  });

  it("points at items of block and flow sequences", () => {
    expect(at(["services", "frontend", "calls", 0])).toEqual({ line: 4, col: 13 });
    expect(at(["faults", 1])).toEqual({ line: 11, col: 5 });
    expect(at(["faults", 1, "kind"])).toEqual({ line: 11, col: 25 });
  });

  it("points at the key when asked (unknown keys)", () => {
    expect(at(["services", "frontend", "calls"], { at: "key" })).toEqual({ line: 4, col: 5 });
  });

  it("points at the key of an empty value", () => {
    expect(at(["services", "checkout", "replicas"])).toEqual({ line: 6, col: 5 });
  });

  it("points at the map a missing key belongs in", () => {
    expect(at(["faults", 0, "duration"])).toEqual({ line: 8, col: 5 });
    expect(at(["load", "target"])).toEqual({ line: 1, col: 1 });
  });

  it("stops at the deepest node that exists", () => {
    expect(at(["faults", 7])).toEqual({ line: 8, col: 3 });
    expect(at(["name", "deeper"])).toEqual({ line: 1, col: 7 });
  });

  it("offsets into a scalar, past an opening quote", () => {
    expect(at(["checks", 0, "slo"], { offset: 6 })).toEqual({ line: 13, col: 17 });
    expect(at(["checks", 1, "slo"], { offset: 6 })).toEqual({ line: 14, col: 16 });
  });

  it("falls back to 1:1 for an empty document", () => {
    const lines = new LineCounter();
    const doc = parseDocument("", { lineCounter: lines });
    expect(locate(doc, lines, ["name"])).toEqual({ line: 1, col: 1 });
  });
});
