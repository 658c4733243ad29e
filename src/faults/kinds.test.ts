import { describe, expect, it } from "vitest";
import { FAULT_KINDS } from "../scenario/spec.js";
import { FAULT_KIND_FACTS } from "./kinds.js";
import { FAULT_INJECTORS } from "./registry.js";

describe("the fault kind table", () => {
  it("has facts for every kind the scenario format accepts, and nothing else", () => {
    expect(Object.keys(FAULT_KIND_FACTS).sort()).toEqual([...FAULT_KINDS].sort());
  });

  it("is what every injector says about its layer and how it is observed", () => {
    for (const [kind, injector] of Object.entries(FAULT_INJECTORS)) {
      const facts = FAULT_KIND_FACTS[kind as keyof typeof FAULT_KIND_FACTS];
      expect([kind, injector.layer, injector.observedBy]).toEqual([kind, facts.layer, facts.observedBy]);
    }
  });

  it("attributes only faults the proxy does not name, and only a partition cuts a link", () => {
    const where = (pick: (f: (typeof FAULT_KIND_FACTS)[keyof typeof FAULT_KIND_FACTS]) => unknown, value: unknown) =>
      Object.entries(FAULT_KIND_FACTS)
        .filter(([, f]) => pick(f) === value)
        .map(([k]) => k);
    expect(where((f) => f.attributedAs, "crash")).toEqual(["kill", "pause"]);
    expect(where((f) => f.attributedAs, "partition")).toEqual(["blackhole", "partition"]);
    expect(where((f) => f.actsAt, "link")).toEqual(["partition"]);
    expect(where((f) => f.endsItself, false)).toEqual(["kill", "pause", "shift"]);
  });
});
