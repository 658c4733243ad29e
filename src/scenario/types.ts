// The resolved scenario: what the engine uses. Every field is present, durations are in
// milliseconds, percents and rates are fractions (0.5, not 50), names have been checked.
// It is produced in exactly one place (resolve.ts) from the ScenarioSpec the user wrote.

import type { GrpcRetryOn, Protocol } from "./protocols.js";
import type { Acknowledgement } from "./warnings.js";

export type DataPlaneName = "haproxy" | "envoy";

/** How callers' sidecars reach a destination: over mutual TLS, or in plaintext. */
export type TlsMode = "mutual" | "disable";

export interface SourceLocation {
  /** 1-based line and column in the scenario file. */
  line: number;
  col: number;
  /** Set when the thing was imported from another file (a compose file, an Istio resource). */
  file?: string;
}

export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

export interface ResolvedService {
  name: string;
  replicas: number;
  /** Services the fixture calls on every request, in order. */
  calls: string[];
  /** The fixture's own service time. */
  latency: LatencyRange;
  /** The fixture's own failure rate, 0..1: it answers 500 with this probability. */
  errorRate: number;
  /** The fixture answers 503 to the first n tries of each request id, then serves it; absent when 0. */
  failFirst?: number;
  /** What the app speaks; absent: http (HTTP/1.1). */
  protocol?: Exclude<Protocol, "http">;
  /** Port the app listens on inside its pod. */
  port: number;
  /** Path the mesh probes for readiness (for a user image: also the default path of policy health checks). */
  health: string;
  /** A user's image instead of the fixture; absent for the fixture. */
  image?: ResolvedImage;
  /** Services whose apps must be ready before this one's app starts (compose depends_on); absent when none. */
  dependsOn?: string[];
  /** Limits of the app container as written (the plan fills in the defaults); absent when not written. */
  resources?: { memoryBytes?: number; pids?: number };
  /**
   * Versions of the service (a canary, a new release), each its own replicas, in the order the
   * scenario wrote them; absent when the service has none. Replica indexes run across versions
   * (the first version's replicas first), so `payments[2]` and every replica-addressed feature
   * mean the same with versions as without.
   */
  versions?: ResolvedVersion[];
}

/** One version of a service: its replicas and the fixture's knobs for them. */
export interface ResolvedVersion {
  name: string;
  /** The service's replica indexes that run this version. */
  replicas: number[];
  latency: LatencyRange;
  errorRate: number;
  failFirst?: number;
}

/** A route in a destination's policy: requests that match go to one version, before any split. */
export interface ResolvedRoute {
  match: { header: string; value: string } | { path: string };
  /** The version they go to. */
  to: string;
}

/** Where a user image comes from: an image that exists locally, or a Dockerfile to build. */
export type ImageSource =
  | { kind: "image"; ref: string }
  | {
      kind: "build";
      /** The build context folder, relative to the working directory (or absolute). */
      context: string;
      /** The Dockerfile, relative to the context. */
      dockerfile: string;
      args: Record<string, string>;
      target: string | null;
    };

/** How the mesh knows an app is ready: GET a path (2xx), a TCP connect, or a command in the app container (exit 0). */
export type Readiness = { kind: "http"; path: string } | { kind: "tcp" } | { kind: "exec"; command: string[] };

export interface ResolvedImage {
  source: ImageSource;
  env: Record<string, string>;
  /** Replaces the image's CMD; null keeps it. */
  command: string[] | null;
  /** Replaces the image's ENTRYPOINT; null keeps it. */
  entrypoint: string[] | null;
  user: string | null;
  workingDir: string | null;
  readiness: Readiness;
  /**
   * Every service its sidecar routes to. The app decides whom it calls, so the mesh routes
   * every service, as Istio does without a Sidecar resource; `calls` only names the edges.
   */
  upstreams: string[];
  /** Where the service is defined: the scenario or an imported compose file. */
  origin: SourceLocation & { file: string };
}

export type RetryOn = "5xx" | "reset" | "connect-failure" | "timeout" | GrpcRetryOn | `${number}`;

export interface ResolvedRetryBudget {
  ratio: number;
  minPerSecond: number;
  /** Sliding window over which the budget is computed. */
  windowMs: number;
}

export interface ResolvedRetries {
  /** Tries in all, the first one included (>= 1): 3 means up to 2 retries. */
  attempts: number;
  perTryTimeoutMs: number | null;
  retryOn: RetryOn[];
  budget: ResolvedRetryBudget | null;
}

/**
 * Local rate limiting on the callee's inbound side, per replica: a token bucket of `burst` tokens
 * refilled at `requestsPerSecond`; a request that finds it empty is answered 429 with Retry-After.
 */
export interface ResolvedRateLimit {
  requestsPerSecond: number;
  /** The bucket's size (>= 1): the most requests served back to back after a quiet spell. */
  burst: number;
}

export interface ResolvedPolicy {
  /** The whole request, across retries. */
  timeoutMs: number;
  retries: ResolvedRetries | null;
  circuitBreaker: { maxConnections: number | null; maxPending: number | null } | null;
  outlierDetection: {
    consecutive5xx: number;
    intervalMs: number;
    baseEjectionTimeMs: number;
    /** A fraction 0..1 despite the name: the scenario's percent, divided by 100. */
    maxEjectionPercent: number;
  } | null;
  loadBalancer: "round-robin" | "least-request" | "random" | "peak-ewma";
  healthCheck: { path: string; intervalMs: number; unhealthyAfter: number; healthyAfter: number } | null;
  /** Enforced by the destination's own sidecars (inbound), not by its callers. */
  rateLimit: ResolvedRateLimit | null;
  /**
   * The effective mode of calls to this destination: its `tls.mode`, else mesh.mtls (mutual when
   * on). Absent (plans recorded before mTLS existed, hand-built policies): disable.
   */
  tls?: TlsMode;
  /**
   * Share of requests per version (fractions summing to 1), applied by each caller's sidecar per
   * request; absent or null: every replica an equal share, whatever its version.
   */
  split?: Record<string, number> | null;
  /** First match wins, before the split; absent or empty: none. */
  routes?: ResolvedRoute[];
}

export interface RequestTemplate {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  weight: number;
}

export type LoadModel = "open" | "closed";
export type Arrivals = "constant" | "poisson";
export type LoadProtocol = "http" | "grpc";

/** What every call of a gRPC load sends. */
export interface GrpcCall {
  /** package.Service/Method (the request path without its leading "/"). */
  method: string;
  /** The request message as JSON, encoded with the proto once before the start. */
  message: Record<string, unknown>;
  /** Request metadata (names lowercase); x-request-id is the generator's own. */
  metadata: Record<string, string>;
  /** The .proto file that defines the method (absolute). */
  protoFile: string;
}

export interface ResolvedLoad {
  target: string;
  /** open: requests sent at their scheduled times whatever the system does; closed: a pool of `connections`. */
  model: LoadModel;
  rate: number;
  /** open model: how requests are spaced. */
  arrivals: Arrivals;
  /** open model: the cap on requests in flight (and on connections); closed model: `connections`. */
  maxInFlight: number;
  /** closed model: the client pool; open model: the cap on connections, which is maxInFlight. */
  connections: number;
  /** A request without a complete answer after this long fails as a timeout. */
  timeoutMs: number;
  /** open model: the generator lag p99 (ms) over which a window's checks are inconclusive. */
  maxLagMs: number;
  durationMs: number;
  /** http: `requests` over HTTP/1.1; grpc: `grpc`'s one method over HTTP/2 (open model only). */
  protocol: LoadProtocol;
  /** An http load's mix; a gRPC load's single call as the one request (POST /package.Service/Method), which names its path in the report. */
  requests: RequestTemplate[];
  /** protocol grpc: the call; null for an http load. */
  grpc: GrpcCall | null;
}

export type FaultKind = "abort" | "delay" | "blackhole" | "reset" | "ratelimit" | "partition" | "kill" | "pause" | "bandwidth" | "shift";

/** One endpoint of a partition: a whole service or a single replica. */
export interface Endpoint {
  service: string;
  /** null = every replica */
  replica: number | null;
}

interface FaultBase {
  name: string;
  kind: FaultKind;
  /** Service the fault acts on (for partitions: the first endpoint's service). */
  target: string;
  /** Replica indexes affected; every replica when the scenario named none. */
  replicas: number[];
  /** Only requests from this caller (edge target), or null for every caller. */
  from: string | null;
  /** Only requests carrying this header value, or null. */
  match: { header: string; value: string } | null;
  /** Fraction of requests affected, 0..1. */
  probability: number;
  atMs: number;
  /** Until the load ends when the scenario gave no duration. */
  durationMs: number;
  location: SourceLocation;
}

export interface AbortFault extends FaultBase {
  kind: "abort";
  status: number;
  /** A grpc target: the gRPC status answered instead of `status` (a trailers-only response). */
  grpcStatus?: number;
}
export interface DelayFault extends FaultBase {
  kind: "delay";
  delay: LatencyRange;
}

/**
 * The kind attributes of every fault kind but abort and delay, by kind, kept under `attributes`
 * (report.json's shape; report-schema.ts reads each kind's). A kind without its entry here does
 * not compile (AttributedFaults).
 */
export interface FaultAttributes {
  blackhole: NoAttributes;
  reset: NoAttributes;
  /** Answers 429 with `Retry-After: retryAfterMs / 1000` (whole seconds, as the header says them). */
  ratelimit: { retryAfterMs: number };
  partition: {
    between: [Endpoint, Endpoint];
    /** both: nothing crosses; oneway: the first endpoint cannot open connections to the second. */
    direction: "both" | "oneway";
  };
  /** restart: the app is started again when the fault ends. */
  kill: { restart: boolean };
  pause: NoAttributes;
  /** As tc writes it: "1mbit", "500kbit", "10mbps" (faults/attributes.ts parses it). */
  bandwidth: { rate: string };
  /** The callers' split while it is on (fractions by version, summing to 1); the policy's again after. */
  shift: { split: Record<string, number> };
}
type NoAttributes = Record<never, never>;

/** A fault of one of the kinds with `attributes`, by kind; a kind missing from FaultAttributes does not compile. */
type AttributedFaults = { [K in Exclude<FaultKind, "abort" | "delay">]: FaultBase & { kind: K; attributes: FaultAttributes[K] } };
export type AttributedFault = AttributedFaults[keyof AttributedFaults];
export type ResolvedFault = AbortFault | DelayFault | AttributedFault;

export type WindowRef =
  | { kind: "whole" }
  | { kind: "baseline" }
  | { kind: "fault"; fault: string }
  | { kind: "recovery"; fault: string };

export type Comparator = "<" | "<=" | ">" | ">=";

export type SloMetric = { kind: "error_rate" } | { kind: "percentile"; percentile: number };

export interface SloExpression {
  /** The expression as written, e.g. "p(99) < 800ms". */
  source: string;
  metric: SloMetric;
  op: Comparator;
  /** error_rate: a fraction; percentile: microseconds. */
  threshold: number;
}

export interface SloCheck {
  kind: "slo";
  /** Stable display name: "<expression> @ <window>". */
  name: string;
  expression: SloExpression;
  window: WindowRef;
  location: SourceLocation;
}

export interface PropertyCheck {
  kind: "property";
  name: string;
  property: string;
  /**
   * The check's other fields, only those written: `edge` {from, to}, `target` as an Endpoint,
   * `fault` (a name), `withinMs`, `max` and `min` (numbers as written, "99%" as 0.99),
   * `slos` (SloExpression[]), `path` (a request path), `tolerance` (a fraction) and `version`
   * (a version's name).
   */
  params: Record<string, unknown>;
  location: SourceLocation;
}

export type ResolvedCheck = SloCheck | PropertyCheck;

export interface ResolvedScenario {
  name: string;
  description: string;
  seed: number;
  dataPlane: DataPlaneName;
  /** Path of the file as given and its full text (the report shows the source). */
  source: { file: string; text: string };
  services: ResolvedService[];
  /** mesh.mtls as written (the default for every destination's tls mode); absent in recordings made before it existed: false. */
  mtls?: boolean;
  /** Policy per destination service; every service has one (defaults when the scenario gave none). */
  policies: Record<string, ResolvedPolicy>;
  load: ResolvedLoad;
  faults: ResolvedFault[];
  checks: ResolvedCheck[];
  /** Plan warnings the author has read and accepts (absent in recordings made before it existed). */
  acknowledge?: Acknowledgement[];
}

/** A problem found in a scenario: always located, always says what is allowed. */
export interface Problem {
  severity: "error" | "warning";
  file: string;
  line: number;
  col: number;
  /** Path in the document, e.g. "faults[0].target". */
  path: string;
  message: string;
}
