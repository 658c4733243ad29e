import { describe, expect, it } from "vitest";
import { parseRate } from "./attributes.js";
import { applyAll, type PodStep } from "./injector.js";
import { networkFaultId, tbfBurstBytes } from "./network-injectors.js";
import { FAULT_INJECTORS } from "./registry.js";

const step = (pod: string, log: string[], fail = false): PodStep => ({
  pod,
  apply: async () => {
    log.push(`apply ${pod}`);
    if (fail) throw new Error("refused");
    return `${pod} on`;
  },
  undo: async () => {
    log.push(`undo ${pod}`);
  },
});

describe("applyAll", () => {
  it("returns every pod's evidence and a revert that undoes them all", async () => {
    const log: string[] = [];
    const applied = await applyAll([step("a", log), step("b", log)]);
    expect(applied.evidence).toEqual(["a on", "b on"]);
    await applied.revert();
    expect(log).toEqual(["apply a", "apply b", "undo b", "undo a"]);
  });

  it("leaves nothing half-on: a failure undoes every pod, the failed one too, and names it", async () => {
    const log: string[] = [];
    await expect(applyAll([step("a", log), step("b", log, true)])).rejects.toThrow("b: refused");
    expect(log.sort()).toEqual(["apply a", "apply b", "undo a", "undo b"]);
  });
});

describe("the registry", () => {
  it("has an injector for every fault kind, each switching its own kind", () => {
    expect(Object.entries(FAULT_INJECTORS).map(([k, v]) => [k, v.kind, v.layer])).toEqual([
      ["abort", "abort", "sidecar"],
      ["delay", "delay", "sidecar"],
      ["blackhole", "blackhole", "sidecar"],
      ["reset", "reset", "sidecar"],
      ["ratelimit", "ratelimit", "sidecar"],
      ["partition", "partition", "network"],
      ["kill", "kill", "container"],
      ["pause", "pause", "container"],
      ["bandwidth", "bandwidth", "network"],
      ["shift", "shift", "routing"],
    ]);
  });
});

describe("network fault helpers", () => {
  it("derives a short, stable [a-z0-9] id per fault name", () => {
    expect(networkFaultId("split")).toMatch(/^[0-9a-f]{12}$/);
    expect(networkFaultId("split")).toBe(networkFaultId("split"));
    expect(networkFaultId("split")).not.toBe(networkFaultId("split-2"));
  });

  it("parses tc rates (bps units are bytes, as in tc) and sizes the tbf burst", () => {
    expect(parseRate("4mbit")).toEqual({ text: "4mbit", bytesPerSecond: 500_000 });
    expect(parseRate("500kbit")?.bytesPerSecond).toBe(62_500);
    expect(parseRate("10mbps")?.bytesPerSecond).toBe(10_000_000);
    expect(parseRate("1.5gbit")?.bytesPerSecond).toBe(187_500_000);
    expect([parseRate("fast"), parseRate("0mbit"), parseRate("4 mbit")]).toEqual([null, null, null]);
    expect(tbfBurstBytes(500_000)).toBe(5000);
    expect(tbfBurstBytes(12_500)).toBe(3028);
  });
});
