import { describe, expect, it } from "vitest";
import type { AbortFault, DelayFault, ResolvedFault } from "../../scenario/types.js";
import type { AdminChannel } from "../types.js";
import {
  FAULT_LIST_COMMAND,
  HaproxyCommandError,
  encodeCliValue,
  expectOk,
  faultDelCommand,
  faultSetCommand,
  haproxyFaultCounters,
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

  it("builds a blackhole and a reset: no kind parameters", () => {
    const hole = { ...base, name: "hole", kind: "blackhole", from: "checkout", attributes: {} } as ResolvedFault;
    const reset = { ...base, name: "rst", kind: "reset", probability: 1, attributes: {} } as ResolvedFault;
    expect(faultSetCommand({ fault: hole, untilEpochMs: UNTIL, seed: 5 })).toBe(
      "meshquake fault set hole kind=blackhole pct=50 from=checkout until=1795239600000 seed=5",
    );
    expect(faultSetCommand({ fault: reset, untilEpochMs: UNTIL, seed: 5 })).toBe(
      "meshquake fault set rst kind=reset pct=100 from=* until=1795239600000 seed=5",
    );
  });

  it("builds a ratelimit: its Retry-After in whole seconds", () => {
    const limit = { ...base, name: "limit", kind: "ratelimit", probability: 0.3, attributes: { retryAfterMs: 2000 } } as ResolvedFault;
    expect(faultSetCommand({ fault: limit, untilEpochMs: UNTIL, seed: 3 })).toBe(
      "meshquake fault set limit kind=ratelimit pct=30 retry_after=2 from=* until=1795239600000 seed=3",
    );
    const odd = { ...limit, attributes: { retryAfterMs: 1500 } } as ResolvedFault;
    expect(() => faultSetCommand({ fault: odd, untilEpochMs: UNTIL })).toThrow(/1500 ms is not a whole number of seconds/);
  });

  it("adds since= for a fault sent ahead of its start, and refuses one that would never start", () => {
    expect(faultSetCommand({ fault: abort, untilEpochMs: UNTIL, sinceEpochMs: UNTIL - 20_000 + 0.6, seed: 1 })).toBe(
      "meshquake fault set payments-abort kind=abort pct=50 status=503 from=* since=1795239580000 until=1795239600000 seed=1",
    );
    expect(() => faultSetCommand({ fault: abort, untilEpochMs: UNTIL, sinceEpochMs: UNTIL })).toThrow(/since: 1795239600000 is not an integer in 0..1795239599999/);
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
      "fault split: kind partition is not switched by the haproxy data plane (it switches: abort, delay, blackhole, reset, ratelimit)",
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
    expect(
      parseFaultList("OK 1 faults on payments-0\nlater kind=reset pct=100 from=* since=1795239580000 until=1795239600000 seed=0 seen=0 hits=0 state=pending\n"),
    ).toMatchObject([{ name: "later", kind: "reset", state: "pending", params: { since: "1795239580000" } }]);
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

  it("switches abort, delay, blackhole, reset and ratelimit at runtime", () => {
    expect([...haproxyDataPlane.runtimeFaultKinds].sort()).toEqual(["abort", "blackhole", "delay", "ratelimit", "reset"]);
  });

  it("reads a fault's counters from the listing, null when the table does not hold it", async () => {
    const reply =
      "OK 1 faults on payments-0\n" +
      "hole kind=blackhole pct=25 from=checkout until=1795239600000 seed=0 seen=40 hits=9 state=expired\n\n";
    const { admin, sent } = channel(reply);
    expect(await haproxyFaultCounters(admin, "hole")).toEqual({ seen: 40, hits: 9 });
    expect(await haproxyFaultCounters(admin, "other")).toBeNull();
    expect(sent).toEqual([FAULT_LIST_COMMAND, FAULT_LIST_COMMAND]);
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
