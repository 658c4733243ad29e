// Runtime-API commands for the fault table in images/haproxy/faults.lua, and their replies.
//
//   meshquake fault set <name> kind=<kind> pct=<0..100> <kind params> from=<service|*>
//                       [header=<name> value=<value>] [since=<epoch ms>] until=<epoch ms> seed=<n>
//       abort: status=<200..599> [grpc=<1..16>, what a grpc pod answers]      delay: delay_min=<ms> delay_max=<ms>
//       blackhole (hold without an answer until the fault ends), reset (close without an answer): none
//       ratelimit: retry_after=<seconds> (answers 429 with that Retry-After)
//   meshquake fault del <name>        "OK deleted <name>" or "OK absent <name>"
//   meshquake fault list              "OK <n> faults on <pod>", then one line per fault
//   meshquake fault clear             "OK cleared <n>"
//
// Every value is percent-encoded: only [A-Za-z0-9._~*=-] and %XX reach HAProxy's CLI, whose
// tokenizer treats ';', '\' and spaces specially. Every reply starts with "OK" or "ERR".
import type { AbortFault, AttributedFault, DelayFault, FaultKind, ResolvedFault } from "../../scenario/types.js";
import type { AdminChannel, RuntimeFault } from "../types.js";
import { integer } from "./names.js";
import { defaultFaultSeed } from "./seed.js";

export const HAPROXY_RUNTIME_FAULT_KINDS = ["abort", "delay", "blackhole", "reset", "ratelimit"] as const;
export type HaproxyRuntimeFaultKind = (typeof HAPROXY_RUNTIME_FAULT_KINDS)[number];

const FAULT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** The longest delay faults.lua holds a request for (the scenario allows no more: scenario/limits.ts). */
export const MAX_DELAY_MS = 3_600_000;

export class HaproxyFaultError extends Error {
  override name = "HaproxyFaultError";
}

/** The proxy refused a command (or is not running faults.lua); carries its own answer. */
export class HaproxyCommandError extends Error {
  override name = "HaproxyCommandError";
  constructor(
    readonly command: string,
    readonly reply: string,
  ) {
    const answer = reply.trim() || "(empty reply)";
    const hint = /unknown command/i.test(answer) ? " (is images/haproxy/faults.lua loaded by the sidecar config?)" : "";
    super(`haproxy answered "${answer}" to: ${command}${hint}`);
  }
}

export function isHaproxyRuntimeFaultKind(kind: FaultKind): kind is HaproxyRuntimeFaultKind {
  return (HAPROXY_RUNTIME_FAULT_KINDS as readonly string[]).includes(kind);
}

/** Percent-encodes everything outside [A-Za-z0-9._~-]. */
export function encodeCliValue(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

type KindParams = { [K in HaproxyRuntimeFaultKind]: (f: ResolvedFault & { kind: K }) => string[] };

/** Kind-specific parameters; a kind listed in HAPROXY_RUNTIME_FAULT_KINDS without one does not compile. */
const KIND_PARAMS = {
  abort: (f: AbortFault) => [
    `status=${integer(`fault ${f.name}: status`, f.status, 200, 599)}`,
    ...(f.grpcStatus !== undefined ? [`grpc=${integer(`fault ${f.name}: grpcStatus`, f.grpcStatus, 1, 16)}`] : []),
  ],
  delay: (f: DelayFault) => {
    const min = integer(`fault ${f.name}: delay`, Math.round(f.delay.minMs), 0, MAX_DELAY_MS);
    const max = integer(`fault ${f.name}: delay`, Math.round(f.delay.maxMs), min, MAX_DELAY_MS);
    return [`delay_min=${min}`, `delay_max=${max}`];
  },
  blackhole: () => [],
  reset: () => [],
  ratelimit: (f: AttributedFault & { kind: "ratelimit" }) => {
    const ms = integer(`fault ${f.name}: retryAfter`, f.attributes.retryAfterMs, 0, MAX_DELAY_MS);
    if (ms % 1000 !== 0) throw new HaproxyFaultError(`fault ${f.name}: retryAfter ${ms} ms is not a whole number of seconds`);
    return [`retry_after=${ms / 1000}`];
  },
} satisfies KindParams;

export function faultName(name: string): string {
  if (!FAULT_NAME.test(name)) {
    throw new HaproxyFaultError(`fault name "${name}" cannot be switched in HAProxy: expected [A-Za-z0-9._-], 1 to 64 characters`);
  }
  return name;
}

/** "50" for 0.5; at most six decimals, so the proxy's die compares against what was meant. */
function percent(f: ResolvedFault): string {
  if (!(f.probability >= 0 && f.probability <= 1)) {
    throw new HaproxyFaultError(`fault ${f.name}: probability ${f.probability} is not in 0..1`);
  }
  return String(Number((f.probability * 100).toFixed(6)));
}

export function faultSetCommand({ fault: f, untilEpochMs, sinceEpochMs, seed }: RuntimeFault): string {
  const name = faultName(f.name);
  if (!isHaproxyRuntimeFaultKind(f.kind)) {
    throw new HaproxyFaultError(
      `fault ${name}: kind ${f.kind} is not switched by the haproxy data plane (it switches: ${HAPROXY_RUNTIME_FAULT_KINDS.join(", ")})`,
    );
  }
  const params = (KIND_PARAMS[f.kind] as (f: ResolvedFault) => string[])(f);
  const until = integer(`fault ${name}: until`, Math.ceil(untilEpochMs), 1, Number.MAX_SAFE_INTEGER);
  const since = sinceEpochMs === undefined ? null : integer(`fault ${name}: since`, Math.floor(sinceEpochMs), 0, until - 1);
  const dieSeed = integer(`fault ${name}: seed`, seed ?? defaultFaultSeed(name), 0, Number.MAX_SAFE_INTEGER);
  const match: string[] = [];
  if (f.match) {
    if (!HEADER_NAME.test(f.match.header)) throw new HaproxyFaultError(`fault ${name}: "${f.match.header}" is not an HTTP header name`);
    match.push(`header=${encodeCliValue(f.match.header.toLowerCase())}`, `value=${encodeCliValue(f.match.value)}`);
  }
  return [
    "meshquake fault set",
    name,
    `kind=${f.kind}`,
    `pct=${percent(f)}`,
    ...params,
    `from=${f.from === null ? "*" : encodeCliValue(f.from)}`,
    ...match,
    ...(since === null ? [] : [`since=${since}`]),
    `until=${until}`,
    `seed=${dieSeed}`,
  ].join(" ");
}

export function faultDelCommand(name: string): string {
  return `meshquake fault del ${faultName(name)}`;
}

export const FAULT_LIST_COMMAND = "meshquake fault list";
export const FAULT_CLEAR_COMMAND = "meshquake fault clear";

/** Returns the reply when it says OK; otherwise throws with the proxy's own answer. */
export function expectOk(command: string, reply: string): string {
  if (!reply.trimStart().startsWith("OK")) throw new HaproxyCommandError(command, reply);
  return reply;
}

export interface FaultListing {
  name: string;
  kind: string;
  /** pending: set ahead of its `since`; expired: past its `until` (the proxy ignores it). */
  state: "pending" | "active" | "expired";
  /** Requests that matched the fault's filters while it was active, and how many it hit. */
  seen: number;
  hits: number;
  params: Record<string, string>;
}

/** Parses the reply to `meshquake fault list`. */
export function parseFaultList(reply: string): FaultListing[] {
  const [head, ...lines] = expectOk(FAULT_LIST_COMMAND, reply).trim().split("\n");
  if (!head || !/^OK \d+ faults/.test(head)) throw new HaproxyCommandError(FAULT_LIST_COMMAND, reply);
  return lines
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const [name = "", ...words] = line.trim().split(/\s+/);
      const params = Object.fromEntries(
        words.map((w) => [w.slice(0, w.indexOf("=")), decodeURIComponent(w.slice(w.indexOf("=") + 1))]),
      );
      const { kind = "", state, seen = "0", hits = "0", ...rest } = params;
      const known = state === "active" || state === "pending" ? state : "expired";
      return { name, kind, state: known, seen: Number(seen), hits: Number(hits), params: rest };
    });
}

/**
 * What faults.lua counted for one fault while it was on (requests that passed its caller and
 * header filters, and those it hit), or null when the table does not hold it. For DataPlane.faultCounters.
 */
export async function haproxyFaultCounters(admin: AdminChannel, name: string): Promise<{ seen: number; hits: number } | null> {
  const listed = parseFaultList(await admin.send(FAULT_LIST_COMMAND)).find((f) => f.name === faultName(name));
  return listed ? { seen: listed.seen, hits: listed.hits } : null;
}
