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

describe("the haproxy data plane's contract", () => {
  const haproxy = dataPlaneFor("haproxy");

  it("frames a runtime-API command as one line and knows its own readiness answer", () => {
    expect(haproxy.admin.frame("show info")).toBe("show info\n");
    expect(haproxy.admin.readiness).toEqual({ command: "show info", answerIncludes: "Name: HAProxy" });
  });

  it("declares what the mesh image needs for it", () => {
    expect(haproxy.image).toEqual({ packages: ["haproxy"], contextDir: "images/haproxy" });
  });
});
