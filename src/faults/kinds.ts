// What each fault kind is, in one table: where it acts, how its effect is read back, what a
// failure it caused is put down to, how long it holds a request and whether it ends by itself. The modules that judge,
// place, observe or attribute faults read these facts here instead of keeping their own lists
// of kind names, and the table is keyed by FaultKind, so a new kind without its facts does not
// compile.
import type { FaultKind } from "../scenario/types.js";
import type { FaultLayer, ObservedBy } from "./injector.js";

export interface FaultKindFacts {
  /** What switches it: the sidecar's runtime fault table, the pod's network, or the container. */
  readonly layer: FaultLayer;
  /** How the share of requests it affected is read from the sidecars' logs (faults/observe.ts). */
  readonly observedBy: ObservedBy;
  /**
   * target: it acts on the target service's pods, so a caller's sidecar must stand in front of
   * it for the mesh to react; link: it cuts the network between two endpoints.
   */
  readonly actsAt: "target" | "link" | "callers";
  /**
   * What attribution puts a failed connection during it down to, by time and place (the proxy
   * does not name these faults on the failures they cause); null when the proxy names it.
   */
  readonly attributedAs: "crash" | "partition" | null;
  /** How long a request it catches waits: its configured delay, until it ends, or not at all. */
  readonly holds: "its-delay" | "until-it-ends" | "no";
  /**
   * Whether something that outlives the harness ends it at its scheduled end (`until`): the
   * proxy's fault table or a timer in the pod. A killed or paused app stays so until the harness
   * reverts it, however late.
   */
  readonly endsItself: boolean;
}

export const FAULT_KIND_FACTS = {
  abort: { layer: "sidecar", observedBy: "tagged", actsAt: "target", attributedAs: null, holds: "no", endsItself: true },
  delay: { layer: "sidecar", observedBy: "tagged", actsAt: "target", attributedAs: null, holds: "its-delay", endsItself: true },
  blackhole: { layer: "sidecar", observedBy: "tagged", actsAt: "target", attributedAs: "partition", holds: "until-it-ends", endsItself: true },
  reset: { layer: "sidecar", observedBy: "tagged", actsAt: "target", attributedAs: null, holds: "no", endsItself: true },
  ratelimit: { layer: "sidecar", observedBy: "tagged", actsAt: "target", attributedAs: null, holds: "no", endsItself: true },
  partition: { layer: "network", observedBy: "partition", actsAt: "link", attributedAs: "partition", holds: "until-it-ends", endsItself: true },
  kill: { layer: "container", observedBy: "refused", actsAt: "target", attributedAs: "crash", holds: "no", endsItself: false },
  pause: { layer: "container", observedBy: "stalled", actsAt: "target", attributedAs: "crash", holds: "until-it-ends", endsItself: false },
  bandwidth: { layer: "network", observedBy: "installed", actsAt: "target", attributedAs: null, holds: "no", endsItself: true },
  // A shift changes weights in the callers' sidecars: no request fails because of it.
  shift: { layer: "routing", observedBy: "installed", actsAt: "callers", attributedAs: null, holds: "no", endsItself: false },
} as const satisfies Record<FaultKind, FaultKindFacts>;

/** The kinds switched by the sidecar's own runtime fault table. */
export type SidecarFaultKind = { [K in FaultKind]: (typeof FAULT_KIND_FACTS)[K]["layer"] extends "sidecar" ? K : never }[FaultKind];

/** The facts of a kind named in a report, which may come from another version: null if unknown. */
export function factsOf(kind: string): FaultKindFacts | null {
  return Object.hasOwn(FAULT_KIND_FACTS, kind) ? FAULT_KIND_FACTS[kind as FaultKind] : null;
}

/** An injector's fields that are facts of its kind, for it to spread. */
export function kindFields<K extends FaultKind>(kind: K): { kind: K; layer: FaultLayer; observedBy: ObservedBy } {
  const { layer, observedBy } = FAULT_KIND_FACTS[kind];
  return { kind, layer, observedBy };
}
