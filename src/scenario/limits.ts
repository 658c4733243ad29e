// What a scenario may ask for, in one table. Each bound keeps a run inside what the machine, the
// proxy and Node can do, and each message names the bound, so a scenario is refused by `validate`
// with its location instead of failing (or silently misbehaving) half-way through a run.
import { POD_PORTS } from "../plan/types.js";

export const LIMITS = {
  /**
   * A scenario file and every file it imports (compose, env files, Istio resources). Real ones
   * are a few KiB; the yaml package reads about a MiB a second, so this keeps a file under ~0.2 s.
   */
  fileBytes: 128 * 1024,
  /** Nesting of maps and lists in a YAML document; a scenario, compose or Istio file needs fewer than 10. */
  nesting: 32,
  /**
   * The yaml package's maxAliasCount (uses of an anchor times the aliases inside it): stops a
   * "billion laughs" early, while a compose file can still merge one anchor into every service.
   */
  aliasCount: 1000,
  /** A scenario name (the report folder, a Docker label value) and a fault name: a DNS label. */
  nameLength: 63,
  /** `<service>-<replica>` is each replica's DNS name, a label of at most 63 characters: 60 + "-19". */
  serviceNameLength: 60,
  services: 50,
  /** Pods in all (every replica of every service): each is three containers. */
  pods: 100,
  faults: 100,
  /** Istio files a scenario imports (policies.istio). */
  istioFiles: 20,
  checks: 200,
  /** Hops from the load target to the deepest callee, each through two sidecars. */
  callDepth: 16,
  /**
   * Durations and timeouts. Node's timers hold at most 2^31-1 ms (about 596 h) and fire at once
   * beyond it; a day keeps every timer, HAProxy timeout and fault schedule well inside.
   */
  durationMs: 24 * 3_600_000,
  durationText: "24h",
  /** The longest delay the sidecar's fault table injects (images/haproxy/faults.lua via faults.ts). */
  faultDelayMs: 3_600_000,
  faultDelayText: "1h",
  /** Counters the sidecar's config takes (maxconn, queue, budget per second, consecutive errors). */
  proxyCount: 1_000_000,
  /** Health-check thresholds (HAProxy's fall and rise). */
  healthChecks: 1000,
  /** A health-check path is one word of the sidecar config; a request path one line of HTTP. */
  healthPathLength: 1024,
  requestPathLength: 2048,
  headerValueLength: 8192,
  /** Requests per second: past what one machine's generator can send (the open one holds thousands). */
  rate: 100_000,
  /** Templates in a load's request mix, and the body each may carry. */
  requests: 100,
  requestBodyBytes: 64 * 1024,
  /** Text fields without a tighter bound (descriptions, commands, environment values). */
  textLength: 32 * 1024,
} as const;

/** Ports the sidecar owns in every pod's network namespace: an app cannot listen on them. */
export const SIDECAR_PORTS: readonly number[] = Object.values(POD_PORTS);

/**
 * Names that are properties of every JavaScript object: as a service, fault or variable name they
 * would be read back as the property instead of the entry ("constructor" → a function), or be
 * dropped on the way (`__proto__`). They are refused with a message like any other bad name.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), "prototype"]);

/** Request headers the mesh sets and reads between sidecars: a scenario cannot send them. */
export const MESH_HEADER_PREFIX = "x-mq-";
