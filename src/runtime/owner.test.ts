import { describe, expect, it } from "vitest";
import { currentOwner, localProcesses, ownerFromLabels, ownerLabels, ownerState, startTicks, type ProcessTable } from "./owner.js";

const table = (host: string, live: Record<number, string>): ProcessTable => ({ host, startedOf: (pid) => live[pid] ?? null });

describe("run owners", () => {
  it("reads the start time from /proc/<pid>/stat even when the command name holds spaces and parentheses", () => {
    const stat = "4242 (node (my) app) S 1 4242 4242 0 -1 4194560 2000 0 0 0 10 5 0 0 20 0 11 0 987654 1000000 5000";
    expect(startTicks(stat)).toBe("987654");
    expect(startTicks("garbage")).toBeNull();
  });

  it("this process is alive by its own record", () => {
    const me = currentOwner();
    expect(me.pid).toBe(process.pid);
    expect(me.started).toMatch(/^[0-9a-f-]+:\d+$/);
    expect(ownerState(me)).toBe("alive");
    expect(localProcesses.startedOf(2 ** 22 + 12345)).toBeNull();
  });

  it("a reused pid (same pid, another start time) is a gone owner", () => {
    const owner = { pid: 100, host: "ci-1", started: "boot:500" };
    expect(ownerState(owner, table("ci-1", { 100: "boot:500" }))).toBe("alive");
    expect(ownerState(owner, table("ci-1", { 100: "boot:9000" }))).toBe("gone");
    expect(ownerState(owner, table("ci-1", { 100: "otherboot:500" }))).toBe("gone");
    expect(ownerState(owner, table("ci-1", {}))).toBe("gone");
  });

  it("an owner on another host cannot be judged from here, nor a run that recorded none", () => {
    expect(ownerState({ pid: 1, host: "laptop", started: "b:1" }, table("ci-1", { 1: "b:1" }))).toBe("elsewhere");
    expect(ownerState(null, table("ci-1", {}))).toBe("unknown");
  });

  it("round-trips through labels", () => {
    const owner = { pid: 77, host: "h", started: "b:3" };
    expect(ownerFromLabels(ownerLabels(owner))).toEqual(owner);
    expect(ownerFromLabels({ "meshquake.run-id": "x" })).toBeNull();
    expect(ownerFromLabels(undefined)).toBeNull();
  });
});
