import { afterEach, describe, expect, it } from "vitest";
import { configureDebug, debug, debugEnabled } from "./debug.js";

afterEach(() => configureDebug("", () => {}));

describe("debug", () => {
  it("is off until configured, and writes nothing", () => {
    const lines: string[] = [];
    configureDebug("", (s) => lines.push(s));
    debug("meshquake:docker")("GET /version ok");
    expect(lines).toEqual([]);
  });

  it("reads DEBUG as the debug package does: lists, wildcards, exclusions", () => {
    configureDebug("meshquake:*,-meshquake:probe", () => {});
    expect(debugEnabled("meshquake:docker")).toBe(true);
    expect(debugEnabled("meshquake:probe")).toBe(false);
    expect(debugEnabled("express:router")).toBe(false);
    configureDebug("express:* meshquake:docker", () => {});
    expect(debugEnabled("meshquake:docker")).toBe(true);
    expect(debugEnabled("meshquake:steps")).toBe(false);
    configureDebug("*", () => {});
    expect(debugEnabled("meshquake:steps")).toBe(true);
  });

  it("writes one line per call, prefixed with its namespace; a logger made before configuring follows it", () => {
    const log = debug("meshquake:probe");
    const lines: string[] = [];
    configureDebug("meshquake:probe", (s) => lines.push(s));
    log("payments-0 app answering GET /healthz: probe 1 failed: ECONNREFUSED");
    expect(lines).toEqual(["meshquake:probe payments-0 app answering GET /healthz: probe 1 failed: ECONNREFUSED\n"]);
  });
});
