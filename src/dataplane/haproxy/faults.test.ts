import { describe, expect, it } from "vitest";
import type { AbortFault, DelayFault, ResolvedFault } from "../../scenario/types.js";
import type { AdminChannel } from "../types.js";
import {
  HaproxyCommandError,
  encodeCliValue,
  expectOk,
  faultDelCommand,
  faultSetCommand,
  parseFaultList,
} from "./faults.js";
import { haproxyDataPlane } from "./index.js";
import { defaultFaultSeed, faultDie, podSeed } from "./seed.js";

const base = {
  target: "payments",
  replicas: [0],
  from: null,
  match: null,
  probability: 0.5,
  atMs: 10_000,
  durationMs: 20_000,
  location: { line: 1, col: 1 },
};
const abort: AbortFault = { ...base, name: "payments-abort", kind: "abort", status: 503 };
const delay: DelayFault = { ...base, name: "slow-payments", kind: "delay", probability: 1, delay: { minMs: 400, maxMs: 400 } };
const UNTIL = 1_795_239_600_000;

describe("faultSetCommand", () => {
  it("builds an abort", () => {
    expect(faultSetCommand({ fault: abort, untilEpochMs: UNTIL, seed: 42 })).toBe(
      "meshquake fault set payments-abort kind=abort pct=50 status=503 from=* until=1795239600000 seed=42",
    );
  });

  it("builds a delay, with a range when the scenario gave one", () => {
    expect(faultSetCommand({ fault: delay, untilEpochMs: UNTIL, seed: 1 })).toBe(
      "meshquake fault set slow-payments kind=delay pct=100 delay_min=400 delay_max=400 from=* until=1795239600000 seed=1",
    );
    const ranged = { ...delay, delay: { minMs: 2, maxMs: 20 } };
    expect(faultSetCommand({ fault: ranged, untilEpochMs: UNTIL, seed: 1 })).toContain("delay_min=2 delay_max=20");
  });

  it("encodes the caller and the header match so nothing reaches the CLI tokenizer", () => {
    const f: AbortFault = { ...abort, probability: 0.001, from: "checkout", match: { header: "X-User", value: "a b;c\\d\"é*" } };
    expect(faultSetCommand({ fault: f, untilEpochMs: UNTIL + 0.4, seed: 7 })).toBe(
      "meshquake fault set payments-abort kind=abort pct=0.1 status=503 from=checkout header=x-user " +
        "value=a%20b%3Bc%5Cd%22%C3%A9%2A until=1795239600001 seed=7",
    );
    expect(decodeURIComponent(encodeCliValue("a b;c\\d\"é*'()!"))).toBe("a b;c\\d\"é*'()!");
    expect(encodeCliValue("a b;c\\d\"é*'()!")).toMatch(/^[A-Za-z0-9._~%-]+$/);
  });

  it("derives a stable seed from the fault's name when the harness gives none", () => {
    const cmd = faultSetCommand({ fault: abort, untilEpochMs: UNTIL });
    expect(cmd).toContain(`seed=${defaultFaultSeed("payments-abort")}`);
    expect(defaultFaultSeed("payments-abort")).toBe(defaultFaultSeed("payments-abort"));
    expect(defaultFaultSeed("payments-abort")).not.toBe(defaultFaultSeed("slow-payments"));
    expect(Number.isSafeInteger(defaultFaultSeed("payments-abort"))).toBe(true);
  });

  it("refuses what it cannot express", () => {
    const partition = { ...base, name: "split", kind: "partition", attributes: {} } as ResolvedFault;
    expect(() => faultSetCommand({ fault: partition, untilEpochMs: UNTIL })).toThrow(
      "fault split: kind partition is not switched by the haproxy data plane (it switches: abort, delay)",
    );
    expect(() => faultSetCommand({ fault: { ...abort, name: "a b" }, untilEpochMs: UNTIL })).toThrow(/fault name "a b"/);
    expect(() => faultSetCommand({ fault: { ...abort, status: 99 }, untilEpochMs: UNTIL })).toThrow(/status: 99 is not an integer in 200..599/);
    expect(() => faultSetCommand({ fault: { ...abort, probability: 1.5 }, untilEpochMs: UNTIL })).toThrow(/probability 1.5/);
    expect(() => faultSetCommand({ fault: { ...abort, match: { header: "x y", value: "1" } }, untilEpochMs: UNTIL })).toThrow(
      /not an HTTP header name/,
    );
    expect(() => faultSetCommand({ fault: abort, untilEpochMs: Number.NaN })).toThrow(/until/);
  });
});

describe("replies", () => {
  it("passes OK and throws the proxy's own answer otherwise", () => {
    expect(expectOk("x", "OK set a\n\n")).toBe("OK set a\n\n");
    expect(() => expectOk("meshquake fault set a kind=nope", "ERR kind=nope: expected one of abort, delay\n\n")).toThrow(
      'haproxy answered "ERR kind=nope: expected one of abort, delay" to: meshquake fault set a kind=nope',
    );
    expect(() => expectOk("meshquake fault list", "Unknown command: 'meshquake'\n")).toThrow(/is images\/haproxy\/faults.lua loaded/);
  });

  it("parses a fault listing (captured from faults.lua)", () => {
    const reply =
      "OK 2 faults on checkout-1\n" +
      "slow kind=delay pct=100 delay_min=30 delay_max=30 from=frontend until=9999999999999 seed=0 seen=1 hits=1 state=active\n" +
      "ab kind=abort pct=50 status=503 from=* header=x-user value=a%20b until=1795239600000 seed=0 seen=10 hits=4 state=expired\n\n";
    expect(parseFaultList(reply)).toEqual([
      {
        name: "slow",
        kind: "delay",
        state: "active",
        seen: 1,
        hits: 1,
        params: { pct: "100", delay_min: "30", delay_max: "30", from: "frontend", until: "9999999999999", seed: "0" },
      },
      {
        name: "ab",
        kind: "abort",
        state: "expired",
        seen: 10,
        hits: 4,
        params: { pct: "50", status: "503", from: "*", header: "x-user", value: "a b", until: "1795239600000", seed: "0" },
      },
    ]);
    expect(parseFaultList("OK 0 faults on payments-0\n\n")).toEqual([]);
  });
});

describe("haproxyDataPlane fault switching", () => {
  const channel = (reply: string) => {
    const sent: string[] = [];
    const admin: AdminChannel = { send: async (c) => (sent.push(c), reply) };
    return { admin, sent };
  };

  it("applies and reverts through the admin channel", async () => {
    const { admin, sent } = channel("OK set payments-abort\n\n");
    await haproxyDataPlane.applyFault(admin, { fault: abort, untilEpochMs: UNTIL, seed: 3 });
    const del = channel("OK absent payments-abort\n\n");
    await haproxyDataPlane.revertFault(del.admin, abort);
    expect([...sent, ...del.sent]).toEqual([
      "meshquake fault set payments-abort kind=abort pct=50 status=503 from=* until=1795239600000 seed=3",
      faultDelCommand("payments-abort"),
    ]);
  });

  it("throws with the proxy's answer when it refuses", async () => {
    const { admin } = channel("ERR status=503: expected an integer in 200..599\n\n");
    await expect(haproxyDataPlane.applyFault(admin, { fault: abort, untilEpochMs: UNTIL })).rejects.toThrow(HaproxyCommandError);
    await expect(haproxyDataPlane.revertFault(admin, abort)).rejects.toThrow(/haproxy answered "ERR status=503/);
  });

  it("switches abort and delay at runtime", () => {
    expect([...haproxyDataPlane.runtimeFaultKinds].sort()).toEqual(["abort", "delay"]);
  });
});

describe("faultDie (mirror of the Lua die)", () => {
  it("is deterministic per fault seed and pod, and independent across pods and faults", () => {
    const draws = (seed: number, pod: string) => {
      const die = faultDie(seed, podSeed(42, pod));
      return Array.from({ length: 5 }, () => die());
    };
    expect(draws(1, "payments-0")).toEqual(draws(1, "payments-0"));
    expect(draws(1, "payments-0")).not.toEqual(draws(1, "payments-1"));
    expect(draws(1, "payments-0")).not.toEqual(draws(2, "payments-0"));
  });

  it("draws uniformly in [0, 1)", () => {
    const die = faultDie(7, podSeed(42, "payments-0"));
    const n = 20_000;
    let below = 0;
    for (let i = 0; i < n; i++) {
      const u = die();
      expect(u >= 0 && u < 1).toBe(true);
      if (u < 0.3) below++;
    }
    // 0.3 ± 5σ
    expect(Math.abs(below / n - 0.3)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / n));
  });
});
