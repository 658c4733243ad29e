import { describe, expect, it } from "vitest";
import type { PodPlan } from "../plan/types.js";
import { calleesFirst } from "./topology.js";

const pod = (id: string, resolves: string[]): PodPlan => ({ id, sidecar: { resolves } }) as unknown as PodPlan;
const order = (pods: PodPlan[]) => calleesFirst(pods).map((p) => `${p.pod.id}@${p.index}`);

describe("the order the engine creates pods in", () => {
  it("puts every replica a sidecar routes to before it, keeping each pod's own index", () => {
    const pods = [pod("frontend-0", ["checkout-0", "checkout-1"]), pod("checkout-0", ["payments-0"]), pod("checkout-1", ["payments-0"]), pod("payments-0", [])];
    expect(order(pods)).toEqual(["payments-0@3", "checkout-0@1", "checkout-1@2", "frontend-0@0"]);
  });

  it("keeps a cycle in the order it was met, every pod once, and ignores names that are no pod", () => {
    const pods = [pod("a-0", ["b-0", "elsewhere"]), pod("b-0", ["a-0"]), pod("c-0", [])];
    expect(order(pods)).toEqual(["b-0@1", "a-0@0", "c-0@2"]);
  });
});
