// The limits validate enforces are the ones the rest of the harness needs: each is checked
// against the constant it protects, so raising one side without the other fails here.
import { describe, expect, it } from "vitest";
import { MAX_DELAY_MS } from "../dataplane/haproxy/faults.js";
import { MESH_HEADERS } from "../dataplane/haproxy/render.js";
import { POD_PORTS } from "../plan/types.js";
import { parseDuration } from "./duration.js";
import { LIMITS, MESH_HEADER_PREFIX, RESERVED_NAMES, SIDECAR_PORTS } from "./limits.js";

describe("limits", () => {
  it("durations stay far below what a Node timer (2^31-1 ms) and an HAProxy timeout can hold", () => {
    expect(parseDuration(LIMITS.durationText)).toBe(LIMITS.durationMs);
    // The routing backstop adds a second; a retry budget's stick table keeps entries twice its window.
    expect(2 * LIMITS.durationMs + 1000).toBeLessThan(2 ** 31 - 1);
  });

  it("a fault delay is at most what the sidecar's fault table injects", () => {
    expect(parseDuration(LIMITS.faultDelayText)).toBe(LIMITS.faultDelayMs);
    expect(LIMITS.faultDelayMs).toBeLessThanOrEqual(MAX_DELAY_MS);
  });

  it("reserves the sidecar's ports and every header the sidecars exchange", () => {
    expect([...SIDECAR_PORTS].sort()).toEqual(Object.values(POD_PORTS).sort());
    for (const header of Object.values(MESH_HEADERS)) expect(header.startsWith(MESH_HEADER_PREFIX)).toBe(true);
  });

  it("a service name with its largest replica index is a DNS label", () => {
    expect(LIMITS.serviceNameLength + "-19".length).toBeLessThanOrEqual(63);
  });

  it("reserves the names every JavaScript object has", () => {
    for (const name of ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]) expect(RESERVED_NAMES.has(name)).toBe(true);
  });
});
