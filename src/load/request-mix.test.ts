import { describe, expect, it } from "vitest";
import type { RequestTemplate } from "../scenario/types.js";
import { createRequestMix } from "./request-mix.js";

const req = (path: string, weight: number): RequestTemplate => ({ method: "GET", path, headers: {}, body: null, weight });

describe("createRequestMix", () => {
  it("interleaves by weight, exactly over each period and smoothly within it", () => {
    const mix = createRequestMix([req("/a", 3), req("/b", 1)]);
    const seq = Array.from({ length: 8 }, () => mix.next().path);
    expect(seq).toEqual(["/a", "/a", "/b", "/a", "/a", "/a", "/b", "/a"]);
  });

  it("honours fractional weights", () => {
    const mix = createRequestMix([req("/a", 0.7), req("/b", 0.2), req("/c", 0.1)]);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) {
      const p = mix.next().path;
      counts[p] = (counts[p] ?? 0) + 1;
    }
    expect(counts).toEqual({ "/a": 700, "/b": 200, "/c": 100 });
  });

  it("rejects an empty mix and non-positive weights", () => {
    expect(() => createRequestMix([])).toThrow(/at least one request/);
    expect(() => createRequestMix([req("/a", 0)])).toThrow(/GET \/a: weight must be a positive number, got 0/);
  });
});
