import type { ResolvedFault, ResolvedScenario } from "../scenario/types.js";
import { endpointPods } from "./attributes.js";
import type { FaultOf } from "./injector.js";

/**
 * The pods a fault acts on: the target service's selected replicas, as pod ids. For a partition,
 * the first endpoint's pods (its rules live in their network namespaces).
 */
export function faultPods(fault: ResolvedFault): string[] {
  return fault.replicas.map((i) => `${fault.target}-${i}`);
}

/** A partition's two sides as pod ids. */
export function partitionSides(fault: FaultOf<"partition">, replicasOf: (service: string) => number): [string[], string[]] {
  const { between } = fault.attributes;
  return [endpointPods(between[0], replicasOf), endpointPods(between[1], replicasOf)];
}

export function replicaCounter(scenario: Pick<ResolvedScenario, "services">): (service: string) => number {
  return (service) => scenario.services.find((s) => s.name === service)?.replicas ?? 0;
}
