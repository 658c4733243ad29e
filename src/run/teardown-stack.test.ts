import { describe, expect, it } from "vitest";
import { TeardownStack } from "./teardown-stack.js";

describe("TeardownStack", () => {
  it("unwinds newest first and keeps going past a failing step", async () => {
    const order: string[] = [];
    const t = new TeardownStack();
    t.push("network", async () => void order.push("network"));
    t.push("pods", async () => {
      order.push("pods");
      throw new Error("engine said no");
    });
    t.push("faults", async () => void order.push("faults"));
    expect(await t.unwind()).toEqual(["pods: engine said no"]);
    expect(order).toEqual(["faults", "pods", "network"]);
    expect(await t.unwind()).toEqual([]);
  });
});

describe("TeardownStack in a hurry (a second signal)", () => {
  it("skips tidiness, abandons it mid-way, and still runs every essential step", async () => {
    const order: string[] = [];
    const hurry = new AbortController();
    const t = new TeardownStack();
    t.push("remove topology", async () => void order.push("remove topology"), { essential: true });
    t.push("stop log streams", async () => void order.push("stop log streams"));
    t.push("revert faults", () => {
      order.push("revert faults (started)");
      hurry.abort();
      return new Promise(() => {}); // a revert that never ends
    });
    const t0 = Date.now();
    expect(await t.unwind(hurry.signal)).toEqual([]);
    expect(order).toEqual(["revert faults (started)", "remove topology"]);
    expect(Date.now() - t0).toBeLessThan(500);
  });
});
