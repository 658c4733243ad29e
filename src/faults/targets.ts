import type { ResolvedFault } from "../scenario/types.js";

/** The pods a fault acts on: the target service's selected replicas, as pod ids. */
export function faultPods(fault: ResolvedFault): string[] {
  return fault.replicas.map((i) => `${fault.target}-${i}`);
}
