// The DataPlane contract: everything proxy-specific lives behind it. A second adapter
// (Envoy) implements the same interface and passes the same conformance suite.
import type { FileSpec } from "../plan/types.js";
import type { DataPlaneName, ResolvedFault, ResolvedPolicy, ResolvedService } from "../scenario/types.js";

/** Where a destination's replicas listen (their sidecars' inbound listeners). */
export interface UpstreamRef {
  service: string;
  /** "<service>-<index>": resolvable name on the run network. */
  replicas: { index: number; host: string; port: number }[];
  policy: ResolvedPolicy;
}

export interface SidecarRenderInput {
  service: ResolvedService;
  index: number;
  /** Destinations this pod's app calls. */
  upstreams: UpstreamRef[];
  ports: { admin: number; outbound: number; inbound: number; app: number };
  seed: number;
}

export interface SidecarRendering {
  files: FileSpec[];
  /** Command the sidecar container runs. */
  command: string[];
  /** Fields the proxy cannot express exactly, said out loud. */
  warnings: string[];
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
  status: number;
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
}

/** A connection to one sidecar's runtime API. */
export interface AdminChannel {
  send(command: string): Promise<string>;
}

export interface RuntimeFault {
  fault: ResolvedFault;
  /** Dead-man switch: epoch ms after which the proxy itself ignores the fault. */
  untilEpochMs: number;
  /**
   * Seed of the fault's own die (a non-negative safe integer). The proxy mixes it with the pod's
   * seed, so replicas draw independently and a replay draws the same sequence. Default: derived
   * from the fault's name.
   */
  seed?: number;
}

export interface DataPlane {
  name: DataPlaneName;
  renderSidecar(input: SidecarRenderInput): SidecarRendering;
  /** Fault kinds this data plane switches at runtime through its own rules. */
  runtimeFaultKinds: ReadonlySet<string>;
  applyFault(admin: AdminChannel, f: RuntimeFault): Promise<void>;
  revertFault(admin: AdminChannel, fault: ResolvedFault): Promise<void>;
  /** One line of the sidecar's stdout → an access-log entry, or null for anything else. */
  parseLogLine(line: string): AccessLogEntry | null;
}
