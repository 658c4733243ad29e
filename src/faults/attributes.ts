// Kind attributes of the faults whose resolved form keeps them as written (OtherFault.attributes),
// decoded into types once. Validation already checked them; a mismatch here is a harness bug,
// so it throws naming the fault.
import type { Endpoint, ResolvedFault } from "../scenario/types.js";

export interface PartitionAttributes {
  between: [Endpoint, Endpoint];
  /** both: nothing crosses; oneway: the first endpoint cannot open connections to the second. */
  direction: "both" | "oneway";
}

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

function attributes(fault: ResolvedFault): Record<string, unknown> {
  return "attributes" in fault ? fault.attributes : {};
}

function bad(fault: ResolvedFault, what: string): never {
  throw new Error(`fault ${fault.name}: ${what}`);
}

function endpoint(fault: ResolvedFault, value: unknown): Endpoint {
  const e = value as Partial<Endpoint> | null;
  if (!e || typeof e.service !== "string" || !(e.replica === null || Number.isInteger(e.replica))) {
    bad(fault, `partition endpoint ${JSON.stringify(value)} is not { service, replica }`);
  }
  return { service: e.service, replica: e.replica ?? null };
}

export function partitionAttributes(fault: ResolvedFault): PartitionAttributes {
  const { between, direction } = attributes(fault);
  if (!Array.isArray(between) || between.length !== 2) bad(fault, "a partition needs two endpoints in `between`");
  if (direction !== "both" && direction !== "oneway") bad(fault, `direction ${JSON.stringify(direction)} is not both or oneway`);
  return { between: [endpoint(fault, between[0]), endpoint(fault, between[1])], direction };
}

export function killRestarts(fault: ResolvedFault): boolean {
  const { restart } = attributes(fault);
  if (typeof restart !== "boolean") bad(fault, "kill needs a boolean `restart`");
  return restart;
}

export function parseRate(text: string): Rate | null {
  const m = RATE.exec(text);
  if (!m) return null;
  const bytesPerSecond = Number(m[1]) * RATE_UNITS[m[2]!]!;
  return bytesPerSecond > 0 ? { text, bytesPerSecond } : null;
}

export function bandwidthRate(fault: ResolvedFault): Rate {
  const { rate } = attributes(fault);
  const parsed = typeof rate === "string" ? parseRate(rate) : null;
  if (!parsed) bad(fault, `rate ${JSON.stringify(rate)} is not like "1mbit", "500kbit" or "10mbps"`);
  return parsed;
}

export function endpointPods(e: Endpoint, replicasOf: (service: string) => number): string[] {
  const indexes = e.replica === null ? Array.from({ length: replicasOf(e.service) }, (_, i) => i) : [e.replica];
  return indexes.map((i) => `${e.service}-${i}`);
}

export function formatEndpoint(e: Endpoint): string {
  return e.replica === null ? e.service : `${e.service}[${e.replica}]`;
}
