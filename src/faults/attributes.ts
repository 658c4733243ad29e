// Decoding of the fault attributes that are text as written: a bandwidth's rate into bytes per
// second (validation checked it; a mismatch here is a harness bug, so it throws naming the
// fault), and partition endpoints into pods.
import type { Endpoint } from "../scenario/types.js";
import type { FaultOf } from "./injector.js";

export interface Rate {
  /** As tc writes it: "1mbit", "500kbit", "10mbps" (tc's bps units are bytes per second). */
  text: string;
  bytesPerSecond: number;
}

const RATE = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/;
const RATE_UNITS: Record<string, number> = {
  bit: 1 / 8,
  kbit: 1e3 / 8,
  mbit: 1e6 / 8,
  gbit: 1e9 / 8,
  bps: 1,
  kbps: 1e3,
  mbps: 1e6,
  gbps: 1e9,
};

export function parseRate(text: string): Rate | null {
  const m = RATE.exec(text);
  if (!m) return null;
  const bytesPerSecond = Number(m[1]) * RATE_UNITS[m[2]!]!;
  return bytesPerSecond > 0 ? { text, bytesPerSecond } : null;
}

export function bandwidthRate(fault: FaultOf<"bandwidth">): Rate {
  const { rate } = fault.attributes;
  const parsed = parseRate(rate);
  if (!parsed) throw new Error(`fault ${fault.name}: rate ${JSON.stringify(rate)} is not like "1mbit", "500kbit" or "10mbps"`);
  return parsed;
}

export function endpointPods(e: Endpoint, replicasOf: (service: string) => number): string[] {
  const indexes = e.replica === null ? Array.from({ length: replicasOf(e.service) }, (_, i) => i) : [e.replica];
  return indexes.map((i) => `${e.service}-${i}`);
}

export function formatEndpoint(e: Endpoint): string {
  return e.replica === null ? e.service : `${e.service}[${e.replica}]`;
}
