import { describe, expect, it } from "vitest";
import { formatMemorySize, parseMemorySize } from "./memory-size.js";

describe("memory sizes as docker run --memory takes them", () => {
  it("k, m and g are powers of 1024 in every spelling", () => {
    expect(parseMemorySize("256m")).toBe(256 * 1024 ** 2);
    expect(parseMemorySize("256MB")).toBe(256 * 1024 ** 2);
    expect(parseMemorySize("256MiB")).toBe(256 * 1024 ** 2);
    expect(parseMemorySize("1.5g")).toBe(1.5 * 1024 ** 3);
    expect(parseMemorySize("64k")).toBe(64 * 1024);
    expect(parseMemorySize("512")).toBeNull();
    expect(parseMemorySize("1t")).toBeNull();
    expect(formatMemorySize(256 * 1024 ** 2)).toBe("256 MiB");
    expect(formatMemorySize(1024 ** 3)).toBe("1 GiB");
  });
});
