// Internal proxy names, and checks for every scenario-derived string or number that reaches
// HAProxy's config or CLI. The scenario validator rejects bad input long before this; these
// guards make sure nothing unchecked is ever spliced into proxy syntax, whoever calls in.

/** Service names: [a-z][a-z0-9-]*, which is also safe as an HAProxy proxy name and a DNS label. */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** Replica host names on the run network ("payments-1"): a DNS label. */
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Internal proxy names carry "mq_": service names cannot contain "_", so they never collide. */
export const PROXY = {
  inbound: "mq_inbound",
  /** The inbound listener other sidecars reach over mutual TLS (docs/mtls.md). */
  mtlsInbound: "mq_inbound_mtls",
  outbound: "mq_outbound",
  app: "mq_app",
  noRoute: "mq_no_route",
  resolvers: "mq_docker",
} as const;

/**
 * The per-replica attempt listener inside the caller's sidecar: every try of a request to
 * `<service>-<index>` passes through it (HAProxy 2.6 hides every error its own retries consumed
 * from the routing backend's counters and `observe layer7`). Reached over an abstract unix socket of the same name, private to the pod's
 * network namespace.
 */
export function attemptProxy(service: string, index: number): string {
  return `mq_att_${service}_${index}`;
}

/** Stick table holding a destination's request and attempt rates for its retry budget. */
export function budgetTable(service: string): string {
  return `mq_budget_${service}`;
}

/** Server name of replica `index` in both the routing backend and its attempt listener. */
export function replicaServer(index: number): string {
  return `r${index}`;
}

export class HaproxyInputError extends Error {
  override name = "HaproxyInputError";
}

export function serviceName(what: string, value: string): string {
  if (!SERVICE_NAME.test(value)) {
    throw new HaproxyInputError(`${what}: "${value}" is not a service name (expected [a-z][a-z0-9-]*, at most 63 characters)`);
  }
  return value;
}

export function hostName(what: string, value: string): string {
  if (!HOST_NAME.test(value)) {
    throw new HaproxyInputError(`${what}: "${value}" is not a DNS label (expected [a-z0-9-], at most 63 characters)`);
  }
  return value;
}

/** A value written into the config as one word, checked against what the scenario allows for it. */
export function word(what: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) throw new HaproxyInputError(`${what}: ${JSON.stringify(value)} cannot be written into the config as one word`);
  return value;
}

export function integer(what: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new HaproxyInputError(`${what}: ${value} is not an integer in ${min}..${max}`);
  }
  return value;
}

/** An HTTP request path (and query) safe to write as one config word: no spaces, quotes or backslashes. */
const HTTP_PATH = /^\/[A-Za-z0-9._~!$&()*+,;=:@%/?-]{0,1023}$/;

export function httpPath(what: string, value: unknown): string {
  if (typeof value !== "string" || !HTTP_PATH.test(value)) {
    throw new HaproxyInputError(`${what}: ${JSON.stringify(value)} is not an HTTP path HAProxy can check (expected "/..." without spaces or quotes)`);
  }
  return value;
}

export function port(what: string, value: number): number {
  return integer(what, value, 1, 65535);
}

/** HAProxy timeouts are 32-bit milliseconds; 0 would mean "no timeout", which we never want. */
export function durationMs(what: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new HaproxyInputError(`${what}: ${value} is not a positive duration in milliseconds`);
  }
  return integer(what, Math.ceil(value), 1, 2_147_483_647);
}
