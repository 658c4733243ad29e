// Toxiproxy's toxics as meshquake faults, with no I/O: a toxic's JSON (as Toxiproxy's API takes
// and answers it) checked and completed the way Toxiproxy does, then mapped to the faults
// `mesh.inject` takes. One proxy is one service, on its inbound side; a toxic becomes zero, one
// or (for `down`) several faults, each named after the proxy and the toxic so reports show where
// it came from. What Toxiproxy does and meshquake cannot is refused, never silently approximated;
// where the mapping is near but not exact the result says so in `approximations`.
import type { FaultSpec } from "../scenario/spec.js";
import { LIMITS } from "../scenario/limits.js";

/** A fault as a scenario's `faults:` list holds it, without `at`/`duration`: on until reverted. */
export type FaultInput = FaultSpec extends infer F ? (F extends unknown ? Omit<F, "at" | "duration"> : never) : never;

export const TOXIC_STREAMS = ["upstream", "downstream"] as const;
export type ToxicStream = (typeof TOXIC_STREAMS)[number];

/** The toxic types meshquake serves (`down` is toxiproxy-node-client's name for a disabled proxy). */
export const SUPPORTED_TOXIC_TYPES = ["latency", "timeout", "reset_peer", "bandwidth", "down"] as const;
export type ToxicType = (typeof SUPPORTED_TOXIC_TYPES)[number];

/** A toxic as Toxiproxy's API answers it: every attribute of its type present. */
export interface Toxic {
  name: string;
  type: ToxicType;
  stream: ToxicStream;
  toxicity: number;
  attributes: Record<string, number>;
}

/** A request Toxiproxy would refuse too, or one meshquake cannot honour; `status` is the HTTP answer. */
export class ToxicError extends Error {
  override name = "ToxicError";
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface ToxicFaults {
  faults: FaultInput[];
  /** Where meshquake's faults differ from what Toxiproxy would do, for the client to see. */
  approximations: string[];
}

interface ToxicKind {
  /** Toxiproxy's attributes for the type, with its defaults (all integers). */
  attributes: Record<string, number>;
  faults(toxic: Toxic, on: { proxy: string; services: readonly string[] }): ToxicFaults;
}

/** Toxiproxy's toxics that have no meshquake fault, and why. */
const UNSUPPORTED: Record<string, string> = {
  slicer: "meshquake's faults act on whole HTTP requests, not on the TCP segments that carry them",
  limit_data: "meshquake cannot close a connection after a number of bytes",
  slow_close: "meshquake cannot hold back the close of a connection",
};

const TOXIC_KINDS = {
  latency: {
    attributes: { latency: 0, jitter: 0 },
    faults: (toxic, { proxy }) => {
      const { latency = 0, jitter = 0 } = toxic.attributes;
      const min = Math.max(0, latency - jitter);
      const delay = jitter === 0 ? `${latency}ms` : `${min}ms..${latency + jitter}ms`;
      return perRequest(toxic, proxy, { kind: "delay", delay });
    },
  },
  timeout: {
    attributes: { timeout: 0 },
    faults: (toxic, { proxy }) => {
      const { timeout = 0 } = toxic.attributes;
      return perRequest(toxic, proxy, { kind: "blackhole" }, timeout === 0 ? [] : [
        `timeout ${timeout}: meshquake holds each affected request without an answer until the toxic is removed ` +
          `(or the caller gives up); it does not close the connection after ${timeout} ms`,
      ]);
    },
  },
  reset_peer: {
    attributes: { timeout: 0 },
    faults: (toxic, { proxy }) => {
      const { timeout = 0 } = toxic.attributes;
      return perRequest(toxic, proxy, { kind: "reset" }, timeout === 0 ? [] : [
        `timeout ${timeout}: meshquake closes each affected request's connection at once, not after ${timeout} ms`,
      ]);
    },
  },
  bandwidth: {
    attributes: { rate: 0 },
    faults: (toxic, { proxy }) => {
      if (toxic.stream === "upstream") {
        throw new ToxicError(
          400,
          `bandwidth on the upstream stream (what clients send to ${proxy}) has no meshquake counterpart: ` +
            `meshquake's bandwidth fault shapes what ${proxy}'s pods send (its answers, the downstream stream); use stream "downstream"`,
        );
      }
      wholeToxicity(toxic, proxy, "meshquake's bandwidth fault shapes every packet the pods send");
      // Toxiproxy lets data through unthrottled at rate 0: nothing to inject.
      if (toxic.toxicity === 0 || toxic.attributes.rate === 0) return { faults: [], approximations: [] };
      // Toxiproxy's KB is 1000 bytes, as tc's "kbps" (kilobytes per second).
      return { faults: [{ name: faultName(proxy, toxic.name), kind: "bandwidth", target: proxy, rate: `${toxic.attributes.rate}kbps` }], approximations: [] };
    },
  },
  down: {
    attributes: {},
    faults: (toxic, { proxy, services }) => {
      wholeToxicity(toxic, proxy, "meshquake's partition cuts every connection");
      if (toxic.toxicity === 0) return { faults: [], approximations: [] };
      return { faults: partitionsFrom(proxy, services, toxic.name), approximations: [] };
    },
  },
} satisfies Record<ToxicType, ToxicKind>;

/** The faults that stand for a toxic on `proxy`. Throws ToxicError when meshquake cannot honour it. */
export function faultsForToxic(proxy: string, toxic: Toxic, services: readonly string[]): ToxicFaults {
  return TOXIC_KINDS[toxic.type].faults(toxic, { proxy, services });
}

/**
 * A disabled proxy (`enabled: false`): Toxiproxy stops listening, so no client reaches the
 * service while the service's own calls are untouched. meshquake cuts the connections every other
 * service opens to it (a one-way partition from each).
 */
export function faultsForDisabledProxy(proxy: string, services: readonly string[]): FaultInput[] {
  return partitionsFrom(proxy, services, "disabled");
}

/** `label` tells the partitions of a `down` toxic (its name) from those of a disabled proxy. */
function partitionsFrom(proxy: string, services: readonly string[], label: string): FaultInput[] {
  const callers = services.filter((s) => s !== proxy);
  if (callers.length === 0) {
    throw new ToxicError(
      400,
      `proxy "${proxy}" cannot be taken down: meshquake cuts a service off from the other services of the mesh, and it has none ` +
        `(clients outside the mesh, such as the load, reach the ingress directly)`,
    );
  }
  return callers.map((caller) => ({ name: faultName(proxy, label, "from", caller), kind: "partition", between: [caller, proxy], direction: "oneway" }));
}

/**
 * The meshquake fault name for parts such as (proxy, toxic): "toxiproxy-payments-latency-downstream".
 * Fault names use [a-z0-9-] only; longer than a fault name may be, the tail is a hash of the whole.
 */
export function faultName(...parts: string[]): string {
  const full = ["toxiproxy", ...parts].join("-");
  const slug = full.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (slug.length <= LIMITS.nameLength) return slug;
  const hash = fnv1a(full).toString(16).padStart(8, "0");
  return `${slug.slice(0, LIMITS.nameLength - hash.length - 1)}-${hash}`;
}

/** The toxic Toxiproxy would make of a create request's body (defaults filled in), or a ToxicError. */
export function parseNewToxic(body: unknown): Toxic {
  const input = object(body, "the toxic");
  const type = typeOf(input.type);
  const stream = input.stream === undefined ? "downstream" : streamOf(input.stream);
  const name = input.name === undefined || input.name === "" ? `${type}_${stream}` : stringOf(input.name, "name");
  const toxicity = input.toxicity === undefined ? 1 : toxicityOf(input.toxicity);
  const attributes = attributesOf(type, { ...TOXIC_KINDS[type].attributes }, input.attributes);
  return { name, type, stream, toxicity, attributes };
}

/** An update as Toxiproxy applies it: `toxicity` and `attributes` change, the rest stays. */
export function updateToxic(existing: Toxic, body: unknown): Toxic {
  const input = object(body, "the toxic update");
  const toxicity = input.toxicity === undefined ? existing.toxicity : toxicityOf(input.toxicity);
  return { ...existing, toxicity, attributes: attributesOf(existing.type, { ...existing.attributes }, input.attributes) };
}

type PerRequestKind = { kind: "delay"; delay: string } | { kind: "blackhole" } | { kind: "reset" };

/** A fault the target's sidecar applies per request; Toxiproxy's toxicity picks connections instead. */
function perRequest(toxic: Toxic, proxy: string, kind: PerRequestKind, approximations: string[] = []): ToxicFaults {
  const percent = Number((toxic.toxicity * 100).toFixed(6));
  const share =
    toxic.toxicity > 0 && toxic.toxicity < 1
      ? [`toxicity ${toxic.toxicity}: meshquake affects ${percent}% of requests, each drawn on its own, not ${percent}% of connections`]
      : [];
  return { faults: [{ name: faultName(proxy, toxic.name), target: proxy, percent, ...kind }], approximations: [...share, ...approximations] };
}

function wholeToxicity(toxic: Toxic, proxy: string, why: string): void {
  if (toxic.toxicity === 0 || toxic.toxicity === 1) return;
  throw new ToxicError(400, `toxic "${toxic.name}" on ${proxy}: a ${toxic.type} toxic takes toxicity 1 or 0 here, found ${toxic.toxicity} (${why})`);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new ToxicError(400, `bad request body: ${what} must be a JSON object, found ${JSON.stringify(value) ?? "nothing"}`);
}

function typeOf(value: unknown): ToxicType {
  const supported = `supported: ${SUPPORTED_TOXIC_TYPES.join(", ")}`;
  if (typeof value === "string" && (SUPPORTED_TOXIC_TYPES as readonly string[]).includes(value)) return value as ToxicType;
  if (typeof value === "string" && value in UNSUPPORTED) {
    throw new ToxicError(400, `invalid toxic type: meshquake has no counterpart for "${value}" (${UNSUPPORTED[value]}); ${supported}`);
  }
  throw new ToxicError(400, `invalid toxic type: ${value === undefined ? "missing" : JSON.stringify(value)}; ${supported}`);
}

function streamOf(value: unknown): ToxicStream {
  if ((TOXIC_STREAMS as readonly unknown[]).includes(value)) return value as ToxicStream;
  throw new ToxicError(400, `stream was invalid, can be either upstream or downstream (found ${JSON.stringify(value)})`);
}

function stringOf(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  throw new ToxicError(400, `bad request body: ${field} must be a string, found ${JSON.stringify(value)}`);
}

function toxicityOf(value: unknown): number {
  if (typeof value === "number" && value >= 0 && value <= 1) return value;
  throw new ToxicError(400, `bad request body: toxicity is a number from 0 to 1 (the share of connections affected), found ${JSON.stringify(value)}`);
}

/** `into` updated from `given`; names outside the type's are refused (Toxiproxy would ignore a typo). */
function attributesOf(type: ToxicType, into: Record<string, number>, given: unknown): Record<string, number> {
  if (given === undefined || given === null) return into;
  const known = Object.keys(TOXIC_KINDS[type].attributes);
  for (const [key, value] of Object.entries(object(given, "attributes"))) {
    if (!known.includes(key)) {
      const expected = known.length === 0 ? "none" : known.join(", ");
      throw new ToxicError(400, `bad request body: a ${type} toxic has no attribute "${key}" (its attributes: ${expected})`);
    }
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new ToxicError(400, `bad request body: attributes.${key} is a whole number of at least 0, found ${JSON.stringify(value)}`);
    }
    into[key] = value;
  }
  return into;
}

/** 32-bit FNV-1a: a short, stable tag for a name cut to length. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const char of text) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193) >>> 0;
  return hash;
}
