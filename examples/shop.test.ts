// An example suite as a user writes one: a mesh held up for the suite, faults switched on and off
// inside each test, assertions on what the client sees. In your own project, import from
// "meshquake" (here the checkout's sources, so it runs without a build).
//   npx vitest run --project docker examples/shop.test.ts
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMesh, type Mesh } from "../src/index.js";

const SHOP = fileURLToPath(new URL("./shop.yaml", import.meta.url));

/** How many of `n` requests through the ingress answered 200. */
async function ok(mesh: Mesh, n: number): Promise<number> {
  let good = 0;
  for (let i = 0; i < n; i++) {
    const r = await fetch(mesh.ingressUrl);
    await r.arrayBuffer();
    if (r.status === 200) good++;
  }
  return good;
}

describe("the shop, under payments faults", () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh(SHOP);
  }, 120_000);
  afterAll(() => mesh?.close());

  it("checkout's retries hide most of a 50% abort at payments", async () => {
    const fault = await mesh.inject({ name: "half-down", kind: "abort", target: "payments", percent: 50, status: 503 });
    try {
      // Three tries each: about 1 in 8 requests still fails.
      expect(await ok(mesh, 40)).toBeGreaterThanOrEqual(28);
    } finally {
      await fault.revert();
    }
    expect(await ok(mesh, 10)).toBe(10);
  });

  it("a whole payments outage reaches the client, and ends with the fault", async () => {
    const fault = await mesh.inject({ name: "all-down", kind: "abort", target: "payments", percent: 100, status: 503 });
    try {
      expect(await ok(mesh, 5)).toBe(0);
    } finally {
      await fault.revert();
    }
    expect(await ok(mesh, 5)).toBe(5);
  });

  it("one payments replica cut off: checkout fails over to the others", async () => {
    const fault = await mesh.inject({ name: "cut", kind: "partition", between: ["checkout", "payments[0]"], direction: "both" });
    try {
      expect(await ok(mesh, 20)).toBe(20);
    } finally {
      await fault.revert();
    }
  });
});
