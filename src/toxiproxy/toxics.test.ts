import { describe, expect, it } from "vitest";
import { faultSchema } from "../scenario/spec.js";
import { faultName, faultsForDisabledProxy, faultsForToxic, parseNewToxic, SUPPORTED_TOXIC_TYPES, type ToxicError, updateToxic } from "./toxics.js";

const SERVICES = ["frontend", "checkout", "payments"];

function mapped(body: Record<string, unknown>, proxy = "payments") {
  return faultsForToxic(proxy, parseNewToxic(body), SERVICES);
}

function refusal(run: () => unknown): { status: number; message: string } {
  try {
    run();
  } catch (error) {
    const { status, message } = error as ToxicError;
    return { status, message };
  }
  throw new Error("expected a ToxicError");
}

describe("a toxic's JSON, as Toxiproxy completes it", () => {
  it("defaults to a downstream toxic of toxicity 1 named <type>_<stream>, with every attribute of its type", () => {
    expect(parseNewToxic({ type: "latency", attributes: { latency: 200 } })).toEqual({
      name: "latency_downstream",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 200, jitter: 0 },
    });
    expect(parseNewToxic({ name: "slow", type: "timeout", stream: "upstream", toxicity: 0.5 })).toEqual({
      name: "slow",
      type: "timeout",
      stream: "upstream",
      toxicity: 0.5,
      attributes: { timeout: 0 },
    });
  });

  it("refuses toxics with no meshquake counterpart, naming the type, why, and what is supported", () => {
    expect(refusal(() => parseNewToxic({ type: "slicer", attributes: { average_size: 10 } }))).toEqual({
      status: 400,
      message:
        `invalid toxic type: meshquake has no counterpart for "slicer" (meshquake's faults act on whole HTTP requests, not on the TCP segments that carry them); ` +
        "supported: latency, timeout, reset_peer, bandwidth, down",
    });
    expect(refusal(() => parseNewToxic({ type: "limit_data" })).message).toMatch(/^invalid toxic type: meshquake has no counterpart for "limit_data" \(.*\); supported: latency,/);
    expect(refusal(() => parseNewToxic({ type: "slow_close" })).message).toMatch(/"slow_close"/);
    expect(refusal(() => parseNewToxic({ type: "latncy" })).message).toBe('invalid toxic type: "latncy"; supported: latency, timeout, reset_peer, bandwidth, down');
    expect(refusal(() => parseNewToxic({ attributes: {} })).message).toBe("invalid toxic type: missing; supported: latency, timeout, reset_peer, bandwidth, down");
  });

  it("refuses a bad stream, toxicity or attribute, as a 400 with the value found", () => {
    expect(refusal(() => parseNewToxic({ type: "latency", stream: "sideways" }))).toEqual({
      status: 400,
      message: 'stream was invalid, can be either upstream or downstream (found "sideways")',
    });
    expect(refusal(() => parseNewToxic({ type: "latency", toxicity: 1.5 })).message).toBe(
      "bad request body: toxicity is a number from 0 to 1 (the share of connections affected), found 1.5",
    );
    expect(refusal(() => parseNewToxic({ type: "latency", attributes: { latncy: 5 } })).message).toBe(
      'bad request body: a latency toxic has no attribute "latncy" (its attributes: latency, jitter)',
    );
    expect(refusal(() => parseNewToxic({ type: "latency", attributes: { latency: -1 } })).message).toBe(
      "bad request body: attributes.latency is a whole number of at least 0, found -1",
    );
    expect(refusal(() => parseNewToxic([1])).message).toBe("bad request body: the toxic must be a JSON object, found [1]");
  });

  it("updates toxicity and attributes only, keeping the rest", () => {
    const toxic = parseNewToxic({ name: "lag", type: "latency", attributes: { latency: 100, jitter: 10 } });
    expect(updateToxic(toxic, { attributes: { latency: 300 }, type: "timeout", name: "other" })).toEqual({ ...toxic, attributes: { latency: 300, jitter: 10 } });
    expect(updateToxic(toxic, { toxicity: 0.25 })).toEqual({ ...toxic, toxicity: 0.25 });
  });
});

describe("toxics as meshquake faults", () => {
  it("latency (+/- jitter) is a delay with a uniform range on the proxy's service, toxicity as percent", () => {
    expect(mapped({ name: "lag", type: "latency", toxicity: 0.5, attributes: { latency: 200, jitter: 50 } })).toEqual({
      faults: [{ name: "toxiproxy-payments-lag", kind: "delay", target: "payments", percent: 50, delay: "150ms..250ms" }],
      approximations: ["toxicity 0.5: meshquake affects 50% of requests, each drawn on its own, not 50% of connections"],
    });
    expect(mapped({ type: "latency", attributes: { latency: 200 } }).faults).toEqual([
      { name: "toxiproxy-payments-latency-downstream", kind: "delay", target: "payments", percent: 100, delay: "200ms" },
    ]);
    // Toxiproxy never waits less than nothing.
    expect(mapped({ name: "lag", type: "latency", attributes: { latency: 10, jitter: 30 } }).faults[0]).toMatchObject({ delay: "0ms..40ms" });
  });

  it("timeout is a blackhole, and says what differs when Toxiproxy would close after a while", () => {
    expect(mapped({ name: "hole", type: "timeout", attributes: { timeout: 0 } })).toEqual({
      faults: [{ name: "toxiproxy-payments-hole", kind: "blackhole", target: "payments", percent: 100 }],
      approximations: [],
    });
    expect(mapped({ name: "hole", type: "timeout", attributes: { timeout: 500 } }).approximations).toEqual([
      "timeout 500: meshquake holds each affected request without an answer until the toxic is removed (or the caller gives up); it does not close the connection after 500 ms",
    ]);
  });

  it("reset_peer is a reset", () => {
    expect(mapped({ name: "rst", type: "reset_peer", toxicity: 0.1 }).faults).toEqual([{ name: "toxiproxy-payments-rst", kind: "reset", target: "payments", percent: 10 }]);
    expect(mapped({ name: "rst", type: "reset_peer", attributes: { timeout: 100 } }).approximations).toEqual([
      "timeout 100: meshquake closes each affected request's connection at once, not after 100 ms",
    ]);
  });

  it("bandwidth in KB/s is a bandwidth fault in kilobytes per second on what the service sends", () => {
    expect(mapped({ name: "thin", type: "bandwidth", attributes: { rate: 64 } }).faults).toEqual([
      { name: "toxiproxy-payments-thin", kind: "bandwidth", target: "payments", rate: "64kbps" },
    ]);
    // Toxiproxy throttles nothing at rate 0.
    expect(mapped({ name: "thin", type: "bandwidth", attributes: { rate: 0 } }).faults).toEqual([]);
    expect(refusal(() => mapped({ name: "thin", type: "bandwidth", stream: "upstream", attributes: { rate: 64 } })).message).toMatch(
      /^bandwidth on the upstream stream \(what clients send to payments\) has no meshquake counterpart: .*use stream "downstream"$/,
    );
    expect(refusal(() => mapped({ name: "thin", type: "bandwidth", toxicity: 0.5, attributes: { rate: 64 } })).message).toBe(
      `toxic "thin" on payments: a bandwidth toxic takes toxicity 1 or 0 here, found 0.5 (meshquake's bandwidth fault shapes every packet the pods send)`,
    );
  });

  it("down, and a disabled proxy, cut the service off from every other service (one-way: its own calls go on)", () => {
    expect(mapped({ name: "gone", type: "down" }).faults).toEqual([
      { name: "toxiproxy-payments-gone-from-frontend", kind: "partition", between: ["frontend", "payments"], direction: "oneway" },
      { name: "toxiproxy-payments-gone-from-checkout", kind: "partition", between: ["checkout", "payments"], direction: "oneway" },
    ]);
    expect(faultsForDisabledProxy("frontend", SERVICES).map((f) => f.name)).toEqual([
      "toxiproxy-frontend-disabled-from-checkout",
      "toxiproxy-frontend-disabled-from-payments",
    ]);
    expect(refusal(() => faultsForDisabledProxy("solo", ["solo"])).message).toMatch(/^proxy "solo" cannot be taken down: .* it has none/);
  });

  it("gives faults the scenario format accepts as they are (names, kinds, attribute spellings)", () => {
    const bodies = [
      { name: "Lag_Up", type: "latency", stream: "upstream", toxicity: 0.3, attributes: { latency: 5, jitter: 5 } },
      { type: "timeout", attributes: { timeout: 1000 } },
      { type: "reset_peer", toxicity: 0 },
      { type: "bandwidth", attributes: { rate: 1 } },
      { type: "down" },
    ];
    const faults = bodies.flatMap((body) => mapped(body).faults);
    expect(new Set(faults.map((f) => f.kind))).toEqual(new Set(["delay", "blackhole", "reset", "bandwidth", "partition"]));
    for (const fault of faults) expect(faultSchema.safeParse(fault).error?.issues).toBeUndefined();
    expect(SUPPORTED_TOXIC_TYPES).toEqual(["latency", "timeout", "reset_peer", "bandwidth", "down"]);
  });
});

describe("fault names", () => {
  it("are toxiproxy-<proxy>-<toxic> in a fault name's characters, a hash ending the ones cut to 63", () => {
    expect(faultName("payments", "latency_downstream")).toBe("toxiproxy-payments-latency-downstream");
    expect(faultName("payments", "Slow Path!")).toBe("toxiproxy-payments-slow-path-");
    const long = faultName("payments", "x".repeat(80));
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^toxiproxy-payments-x+-[0-9a-f]{8}$/);
    expect(faultName("payments", "x".repeat(81))).not.toBe(long);
  });
});
