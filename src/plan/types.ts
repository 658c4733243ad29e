// The ExecutionPlan: pure, printable, snapshot-tested. Everything the runtime will create
// and everything the run will do, decided before Docker is touched.
import type { LoadModel, Readiness, ResolvedScenario, WindowRef } from "../scenario/types.js";
import type { PlanWarning } from "../scenario/warnings.js";

/** Fixed ports inside every pod's network namespace. */
export const POD_PORTS = {
  /** Sidecar outbound listener: the app's outbound TCP is redirected here by iptables. */
  outbound: 15001,
  /** Sidecar inbound listener: traffic for the app arrives here and is forwarded to it. */
  inbound: 15006,
  /**
   * Sidecar inbound listener for mutual TLS from other sidecars (as Istio's 15008): the callers of
   * a destination whose tls mode is mutual reach its replicas here; see docs/mtls.md.
   */
  mtlsInbound: 15008,
} as const;

/**
 * The sidecar's own directory (the pod's directory of the run on the host, bind-mounted into the
 * sidecar only) and its runtime API there: a unix socket, never a port, so no app in the mesh
 * (they share the sidecar's network namespace, not its mounts) and nothing published can reach it.
 */
export const SIDECAR_DIR = "/run/meshquake";
export const SIDECAR_ADMIN_SOCKET = `${SIDECAR_DIR}/admin.sock`;
/** The sidecar's access log, in the same directory: the harness tails it (see runtime/log-tail.ts). */
export const SIDECAR_ACCESS_LOG = `${SIDECAR_DIR}/access.log`;
/** The pod's mesh credentials (docs/mtls.md), written by the harness before its sidecar starts. */
export const SIDECAR_TLS_DIR = `${SIDECAR_DIR}/tls`;
/** Its certificate and private key, in one PEM file (HAProxy's `crt`). */
export const SIDECAR_TLS_CERT = `${SIDECAR_TLS_DIR}/pod.pem`;
/** The run's CA certificate. */
export const SIDECAR_TLS_CA = `${SIDECAR_TLS_DIR}/ca.pem`;
/** The file whose appearance tells a pod's proxy container to start its sidecar (images/pod/pod-init.sh). */
export const SIDECAR_GATE = `${SIDECAR_DIR}/go`;

export interface FileSpec {
  path: string;
  content: string;
}

export interface PodPlan {
  service: string;
  index: number;
  /** The version this replica runs, when its service has versions. */
  version?: string;
  /** "<service>-<index>": the replica's DNS name on the run network and its id in logs. */
  id: string;
  /**
   * Container names. The proxy container owns the network namespace (as Kubernetes' pause does),
   * installs the interception rules as root, then runs the sidecar as its own uid; the app joins it.
   */
  containers: { proxy: string; app: string };
  /** Network aliases of the proxy container: the replica id and the service name. */
  aliases: string[];
  app: AppPlan;
  /**
   * `accessLogEnv`: the variable that points the sidecar's access log at a file (else stdout).
   * `resolves`: the replica names the sidecar resolves when it starts (every replica of the
   * services it routes to), so it starts only once they are on the network.
   */
  sidecar: { files: FileSpec[]; command: string[]; accessLogEnv: string; resolves: string[] };
  /** Only the ingress service's first replica publishes its inbound listener on 127.0.0.1. */
  publishInbound: boolean;
  /**
   * The pod gets a certificate from the run's CA (in SIDECAR_TLS_DIR before its sidecar starts):
   * every pod, when mutual TLS applies to any destination of the run. Absent: none.
   */
  mtls?: true;
}

/**
 * The app container of a pod. The proxy container always runs the mesh image; the
 * app runs the fixture from it, or the user's image, unchanged (the sidecar meshes it transparently).
 */
export interface AppPlan {
  /** The image the app container runs: the mesh image for the fixture, else the user's (or its built tag). */
  image: string;
  /** "fixture" or "user": whether `image` is the mesh image running the built-in fixture. */
  kind: "fixture" | "user";
  env: Record<string, string>;
  /** null keeps the image's CMD. */
  command: string[] | null;
  /** null keeps the image's ENTRYPOINT. */
  entrypoint: string[] | null;
  user: string | null;
  workingDir: string | null;
  /** The port the app listens on inside the pod; the sidecar's inbound side forwards to 127.0.0.1:<port>. */
  port: number;
  /** HTTP path of the app's health (the fixture's /healthz); see `readiness` for how readiness is judged. */
  health: string;
  readiness: Readiness;
  /** Services whose apps must all be ready before this app starts (compose depends_on). */
  startAfter: string[];
  /** The app container's limits: the service's `resources`, else the default for its kind. */
  resources: { memoryBytes: number; pids: number };
}

export interface WindowSpan {
  /** "whole" | "baseline" | "fault:<name>" | "recovery:<name>" */
  name: string;
  ref: WindowRef;
  /** Milliseconds from the start of load. */
  start: number;
  end: number;
}

export interface TimelineEntry {
  atMs: number;
  action: "apply" | "revert";
  fault: string;
}

export interface ExecutionPlan {
  runId: string;
  scenario: ResolvedScenario;
  image: string;
  network: string;
  /** Labels put on every container and network of the run. */
  labels: Record<string, string>;
  pods: PodPlan[];
  timeline: TimelineEntry[];
  windows: WindowSpan[];
  /**
   * Things the plan could not express exactly or that look wrong; never silent unless the
   * scenario's `acknowledge:` names them (report.json's `warnings`).
   */
  warnings: string[];
  /** The same warnings with their ids and where they point, and those the scenario acknowledged. */
  warningDetails: { shown: PlanWarning[]; acknowledged: PlanWarning[] };
  /** The request that shows the whole mesh carries traffic before load starts: any answer below 500. */
  meshProbe: { path: string };
  /** What the run's observers keep as it goes; `meshquake judge` builds the same ones from its plan. */
  recorders: RecorderPlan;
}

export interface RecorderPlan {
  /** The client's requests: latency thresholds (µs) counted per 100 ms for the checks, and paths with their own statistics (a mix of several). */
  client: { latencyThresholdsUs: number[]; paths: string[] };
  /** The load generator checking itself. */
  generator: { model: LoadModel; rate: number; lagToleranceUs: number };
}

export function windowName(ref: WindowRef): string {
  return ref.kind === "whole" || ref.kind === "baseline" ? ref.kind : `${ref.kind}:${ref.fault}`;
}
