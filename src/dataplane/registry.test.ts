import { describe, expect, it } from "vitest";
import { availableDataPlanes, dataPlaneFor } from "./registry.js";

describe("dataPlaneFor", () => {
  it("finds haproxy", () => {
    expect(dataPlaneFor("haproxy").name).toBe("haproxy");
    expect(availableDataPlanes()).toEqual(["haproxy"]);
  });

  it("says clearly that envoy is not in this build", () => {
    expect(() => dataPlaneFor("envoy")).toThrow(
      'data plane "envoy" is not available in this build (available: haproxy); set dataPlane: haproxy in the scenario or pass --data-plane haproxy',
    );
  });
});
