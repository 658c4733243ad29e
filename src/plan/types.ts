// The ExecutionPlan: pure, printable, snapshot-tested. Everything the runtime will create
// and everything the run will do, decided before Docker is touched.
import type { ResolvedScenario, WindowRef } from "../scenario/types.js";

/** Fixed ports inside every pod's network namespace. */
export const POD_PORTS = {
  /** Sidecar runtime API (HAProxy stats socket, level admin); published on 127.0.0.1. */
  admin: 15000,
  /** Sidecar outbound listener: the app's outbound TCP is redirected here by iptables. */
  outbound: 15001,
  /** Sidecar inbound listener: traffic for the app arrives here and is forwarded to it. */
  inbound: 15006,
} as const;

export interface FileSpec {
  path: string;
  content: string;
}

export interface PodPlan {
  service: string;
  index: number;
  /** "<service>-<index>": the replica's DNS name on the run network and its id in logs. */
  id: string;
  /** Container names. The infra container owns the network namespace (like Kubernetes' pause). */
  containers: { infra: string; app: string; sidecar: string };
  /** Network aliases of the infra container: the replica id and the service name. */
  aliases: string[];
  app: { env: Record<string, string>; command: string[]; port: number; health: string };
  sidecar: { files: FileSpec[]; command: string[] };
  /** Only the ingress service's first replica publishes its inbound listener on 127.0.0.1. */
  publishInbound: boolean;
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
  /** Things the plan could not express exactly or that look wrong; never silent. */
  warnings: string[];
}

export function windowName(ref: WindowRef): string {
  return ref.kind === "whole" || ref.kind === "baseline" ? ref.kind : `${ref.kind}:${ref.fault}`;
}
