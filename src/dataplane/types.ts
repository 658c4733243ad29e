// The DataPlane contract: everything proxy-specific lives behind it. A second adapter
// (Envoy) is one folder beside haproxy/ that implements the same interface, its line in
// registry.ts, and the same conformance suite passed. Every data plane's sidecar runs as the
// mesh's reserved uid (sidecar-user.ts), which the pods' interception lets through.
import type { FileSpec } from "../plan/types.js";
import type { DataPlaneName, ResolvedFault, ResolvedPolicy, ResolvedRateLimit, ResolvedService } from "../scenario/types.js";
import type { WarningId } from "../scenario/warnings.js";

/** Where a destination's replicas listen (their sidecars' inbound listeners). */
export interface UpstreamRef {
  service: string;
  /** "<service>-<index>": resolvable name on the run network; `version` when the service has versions. */
  replicas: { index: number; host: string; port: number; version?: string }[];
  policy: ResolvedPolicy;
  /** What the destination speaks; absent: http. */
  protocol?: "http2" | "grpc";
  /** "mutual": the replicas are reached over mutual TLS (their `port` is their mTLS inbound listener); absent: plaintext. */
  tls?: "mutual";
}

/** Where, inside the sidecar, its mesh credentials are (see src/tls/ and docs/mtls.md). */
export interface SidecarTls {
  /** The pod's certificate and private key, one PEM file. */
  certificate: string;
  /** The run's CA certificate: the only one trusted. */
  caFile: string;
  /**
   * The pod's own service is reached over mutual TLS: its sidecar listens for it on
   * ports.mtlsInbound, and its plaintext inbound listener refuses requests from the mesh.
   */
  inbound: boolean;
}

export interface SidecarRenderInput {
  service: ResolvedService;
  index: number;
  /** Destinations this pod's app calls. */
  upstreams: UpstreamRef[];
  ports: { outbound: number; inbound: number; app: number; mtlsInbound?: number };
  /** Where, inside the sidecar, its runtime API listens: a unix socket path. */
  adminSocket: string;
  seed: number;
  /** The pod's own service's local rate limit, enforced on its inbound side; absent or null: none. */
  rateLimit?: ResolvedRateLimit | null;
  /** The pod's mesh credentials, when mutual TLS applies to it or to any destination it calls; absent or null: none. */
  tls?: SidecarTls | null;
}

/** A policy field for calls to `upstream` the proxy cannot express exactly. */
export interface DataPlaneWarning {
  id: WarningId;
  /** The destination service whose policy it is about. */
  upstream: string;
  /** The policy field, dotted: "retries.retryOn". */
  field: string;
  message: string;
}

export interface SidecarRendering {
  files: FileSpec[];
  /** Command the sidecar container runs. */
  command: string[];
  /**
   * The environment variable that sends the sidecar's access log to a file (a path in the
   * sidecar's directory); without it the log goes to the container's stdout.
   */
  accessLogEnv: string;
  /** Fields the proxy cannot express exactly, said out loud. */
  warnings: DataPlaneWarning[];
}

/** One request as a sidecar saw it. */
export interface AccessLogEntry {
  /** Epoch milliseconds when the sidecar accepted the request. */
  ts: number;
  /** The pod whose sidecar logged it: "<service>-<index>". */
  pod: string;
  direction: "inbound" | "outbound";
  /** Outbound: destination service. Inbound: the pod's own service. */
  route: string;
  /** Inbound: calling service from the mesh header, or null for traffic from outside the mesh. */
  from: string | null;
  /** Outbound: replica id that answered the last attempt ("payments-1"), or null if none. */
  upstream: string | null;
  /** HTTP status; a gRPC failure's is the HTTP status it stands for (UNAVAILABLE: 503), its gRPC status in grpcStatus. */
  status: number;
  /** A gRPC answer's status when the sidecar saw it (in the headers: trailers-only answers); absent otherwise. */
  grpcStatus?: number;
  durationMs: number;
  retries: number;
  /** Proxy termination state, e.g. "----", "sH--". */
  termination: string;
  /** Name of the injected fault that answered this request, or null. */
  fault: string | null;
  /** Every fault injected into this request, in the order applied (a delay then an abort). */
  faults?: string[];
  /** Inbound: the calling replica's index from the mesh header, or null. */
  fromReplica?: number | null;
  /**
   * Outbound: the caller sidecar's id for this request; each of its tries (AttemptEntry) carries
   * it. Inbound: the id the calling sidecar sent, joining this try to the caller's request.
   */
  requestId?: string | null;
  /** Outbound: the tries the destination's policy allows (1: no retries). */
  maxAttempts?: number;
  /** Outbound: why the request ended as it did. */
  cause?: TerminationCause;
  /** Outbound: the retry budget was spent when the request started, so it could not be retried. */
  budgetDenied?: boolean;
  /** Inbound: an active health check from a caller's sidecar, not a request. */
  healthCheck?: boolean;
  /** Inbound: the replica's local rate limit answered it (429 with Retry-After); it never reached the app. */
  rateLimited?: boolean;
  /** Inbound: the request came over TLS (the sidecar's mutual-TLS listener); absent in logs written before mTLS. */
  tls?: boolean;
  /** Inbound over TLS: the calling sidecar's verified identity, its certificate's CN (its service); null without one. */
  peer?: string | null;
  /** Inbound: refused (403) because it came from the mesh in plaintext while this service takes mesh calls over mutual TLS only. */
  plaintextRefused?: boolean;
  /**
   * The request's x-request-id as the sidecar received it (the load generator sets one per client
   * request and the fixture forwards it on every call), or null; absent in older logs.
   */
  traceId?: string | null;
}

/**
 * Why a logical request ended as it did, as the caller's sidecar saw it. "ok" is any answer that
 * is not a failure (a status below 500 that no fault injected). Failures, most specific first:
 * - overflow: the circuit breaker refused it (maxPending) with a fast 503;
 * - no-route: the Host is not a declared upstream of the caller;
 * - no-healthy-replica: every replica was ejected or failing its health checks;
 * - overall-timeout: the policy's timeout ended it (while it waited, or cut a try);
 * - retries-exhausted: every allowed try failed;
 * - budget-exhausted: it failed with tries left, but the retry budget was spent;
 * - per-try-timeout, connect-failure, reset: its only or last try ended so, and was not retried;
 * - injected-fault: an injected fault answered, and it was not retried;
 * - upstream-error: the replica answered a 5xx, and it was not retried;
 * - rate-limited: the callee answered 429 (its local rate limit, or its app) and no fault injected it;
 * - caller-abort: the calling app gave up first.
 */
export type TerminationCause =
  | "ok"
  | "overflow"
  | "no-route"
  | "no-healthy-replica"
  | "overall-timeout"
  | "retries-exhausted"
  | "budget-exhausted"
  | "per-try-timeout"
  | "connect-failure"
  | "reset"
  | "injected-fault"
  | "upstream-error"
  | "rate-limited"
  | "caller-abort";

/** How one try ended. "not-sent": the request's timeout had passed before the try could start. */
export type AttemptOutcome =
  | "ok"
  | "upstream-error"
  | "injected-fault"
  | "per-try-timeout"
  | "overall-timeout"
  | "connect-failure"
  | "reset"
  | "not-sent"
  | "caller-abort";

/** One try of an outbound request, as the caller's sidecar saw it: retries included. */
export interface AttemptEntry {
  kind: "attempt";
  /** Epoch milliseconds when the try started. */
  ts: number;
  /** The caller pod whose sidecar made the try. */
  pod: string;
  /** Destination service. */
  route: string;
  /** Index of the replica tried. */
  replica: number;
  /** The outbound request this try belongs to (AccessLogEntry.requestId), or null. */
  requestId: string | null;
  /** A gRPC try's status when the sidecar saw it (trailers-only answers); absent otherwise. */
  grpcStatus?: number;
  /** Status of the try; a failure the sidecar produced itself gets the status it stands for (502, 503, 504), a gRPC failure the HTTP status it stands for. */
  status: number;
  durationMs: number;
  outcome: AttemptOutcome;
  /** Name of the fault the callee injected into this try, or null. */
  fault: string | null;
  /** Proxy termination state of the try. */
  termination: string;
  /** A 429 try: its Retry-After in ms (delta-seconds), or null when it had none the sidecar could read. */
  retryAfterMs?: number | null;
  /** A 429 try: epoch ms when the caller's sidecar received the 429, which its Retry-After counts from. */
  answeredAt?: number;
  /** A retry after a 429: how long the caller's sidecar held it for that 429's Retry-After. */
  waitedMs?: number;
}

/** Outlier detection and health checks, as the caller's sidecar applied them to a destination's replicas. */
export type PolicyEvent =
  | {
      kind: "ejection";
      ts: number;
      pod: string;
      route: string;
      replica: number;
      /** Epoch ms at which the ejection time ends (re-admission follows at the next sweep). */
      untilTs: number;
      /** Ejections in a row; the ejection time is baseEjectionTime times this. */
      count: number;
    }
  | { kind: "readmission"; ts: number; pod: string; route: string; replica: number }
  /** The replica reached consecutive5xx but maxEjectionPercent allowed no more ejections. */
  | { kind: "ejection-skipped"; ts: number; pod: string; route: string; replica: number; reason: string }
  | {
      kind: "health";
      ts: number;
      pod: string;
      route: string;
      replica: number;
      healthy: boolean;
      /** The proxy's last check result, e.g. "L7OK", "L7STS", "L4CON". */
      check: string;
    };

export type MeshEvent = AttemptEntry | PolicyEvent;

/** A connection to one sidecar's runtime API. */
export interface AdminChannel {
  send(command: string): Promise<string>;
}

export interface RuntimeFault {
  fault: ResolvedFault;
  /** Dead-man switch: epoch ms after which the proxy itself ignores the fault. */
  untilEpochMs: number;
  /**
   * Epoch ms before which the proxy ignores the fault, so it starts on the proxy's own clock
   * however early the command arrived. Absent: at once. Only sent to data planes that declare
   * `startsFaultsOnTime`.
   */
  sinceEpochMs?: number;
  /**
   * Seed of the fault's own die (a non-negative safe integer). The proxy mixes it with the pod's
   * seed, so replicas draw independently and a replay draws the same sequence. Default: derived
   * from the fault's name.
   */
  seed?: number;
}

/**
 * How the harness speaks to a sidecar's runtime API, over the unix socket at
 * SidecarRenderInput.adminSocket (or a relay to it through docker exec): one connection a command.
 */
export interface AdminProtocol {
  /** The bytes one command is on the socket; the proxy answers and closes the connection. */
  frame(command: string): string;
  /** The sidecar is ready when the answer to `command` contains `answerIncludes`. */
  readiness: { command: string; answerIncludes: string };
}

/** What the mesh image carries for a data plane. */
export interface DataPlaneImage {
  /** Debian packages its sidecar needs (the proxy). */
  packages: readonly string[];
  /** Its support files (templates, Lua), relative to the project root, copied into the image. */
  contextDir: string;
}

/** A proxy's counters: a row per listener, route and upstream server, and the proxy's own text. */
export interface ProxyStats {
  columns: string[];
  rows: string[][];
  /** The answer as the proxy gave it (HAProxy: `show stat` CSV). */
  raw: string;
}

export interface DataPlane {
  name: DataPlaneName;
  image: DataPlaneImage;
  admin: AdminProtocol;
  renderSidecar(input: SidecarRenderInput): SidecarRendering;
  /** Fault kinds this data plane switches at runtime through its own rules. */
  runtimeFaultKinds: ReadonlySet<string>;
  applyFault(admin: AdminChannel, f: RuntimeFault): Promise<void>;
  revertFault(admin: AdminChannel, fault: ResolvedFault): Promise<void>;
  /**
   * Optional: what the proxy counted for a runtime fault while it was on: requests that matched
   * its filters (seen) and those it affected (hits); null when the fault is not in its table.
   * Read before revertFault. The fault records use it where the access log cannot tell which
   * requests were eligible (a header match).
   */
  faultCounters?(admin: AdminChannel, faultName: string): Promise<{ seen: number; hits: number } | null>;
  /** Optional: the weights of a caller's route to `service`'s replicas, as they are now (a shift reads them to restore them). */
  getWeights?(admin: AdminChannel, service: string, replicas: readonly number[]): Promise<{ index: number; weight: number }[]>;
  /** Optional: sets those weights at runtime, without a reload (a shift). */
  setWeights?(admin: AdminChannel, service: string, weights: readonly { index: number; weight: number }[]): Promise<void>;
  /** Optional: the proxy's own counters, as a table (each sidecar's stats page in `meshquake up`). */
  stats?(admin: AdminChannel): Promise<ProxyStats>;
  /** Optional: applyFault honours RuntimeFault.sinceEpochMs, so the scheduler may send a fault ahead of its start. */
  startsFaultsOnTime?: boolean;
  /** One line of the sidecar's stdout → an access-log entry, or null for anything else. */
  parseLogLine(line: string): AccessLogEntry | null;
  /**
   * One line of the sidecar's stdout → a try of an outbound request or a policy event (ejection,
   * re-admission, health change), or null for anything else. Request lines are parseLogLine's.
   */
  parseEventLine?(line: string): MeshEvent | null;
}
