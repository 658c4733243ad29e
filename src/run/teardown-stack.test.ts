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
