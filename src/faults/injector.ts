// The contract every fault kind implements, Toxiproxy-style: shared fields on the fault, kind
// attributes typed by kind, and an apply that returns its own revert. The registry in
// registry.ts maps every FaultKind to one injector; a kind without one does not compile.
import type Docker from "dockerode";
import type { DataPlane } from "../dataplane/types.js";
import type { StartedPod } from "../runtime/topology.js";
import type { FaultKind, ResolvedFault } from "../scenario/types.js";

/**
 * The resolved fault of one kind, with that kind's attributes. Where K is still generic (a
 * runtime injector for any sidecar kind), widen it to ResolvedFault to read the shared fields.
 */
export type FaultOf<K extends FaultKind> = Extract<ResolvedFault, { kind: K }>;

/** What an injector may act on: the running topology and the engine. */
export interface InjectionContext {
  docker: Docker;
  dataPlane: DataPlane;
  /** Every pod of the run. */
  pods: readonly StartedPod[];
  /** The run network: pod addresses are read from it. */
  network: string;
}

export interface FaultWindow {
  /**
   * The fault's scheduled start, epoch ms. An injector whose `leadMs` is above zero is called up
   * to that long before it and must make the fault start at this time on its own.
   */
  startEpochMs: number;
  /**
   * The fault's scheduled end, epoch ms. Every injector hands it to something that outlives the
   * harness (the proxy's fault table, a timer in the pod's namespace), so a harness killed with
   * SIGKILL cannot leave the fault on past it: the dead-man switch.
   */
  untilEpochMs: number;
}

/** Counters the proxy kept while the fault was on, summed over its pods. */
export interface FaultCounters {
  /** Requests that matched the fault's filters (caller, header). */
  seen: number;
  /** Requests it affected. */
  hits: number;
}

export interface RevertReport {
  counters?: FaultCounters;
  evidence?: string[];
}

/** Undoes exactly what its apply did. Idempotent: safe after the dead-man switch already ended it. */
export type Revert = () => Promise<RevertReport>;

export interface Applied {
  revert: Revert;
  /** What the injector saw once the fault was on: rules listed, container states, proxy replies. */
  evidence: string[];
}

/** Where a fault acts. */
export type FaultLayer = "sidecar" | "network" | "container" | "routing";

/**
 * How the share of affected requests is read from the sidecars' access logs (src/faults/observe.ts):
 * - tagged: the sidecar names the fault on every request it affected;
 * - partition: the caller's requests that still reached the far side leaked through;
 * - refused: the target's sidecar could not reach its app (503, termination S*);
 * - stalled: the target's app did not answer before the thaw;
 * - installed: not per request; landed when the harness saw it installed.
 */
export type ObservedBy = "tagged" | "partition" | "refused" | "stalled" | "installed";

export interface FaultInjector<K extends FaultKind = FaultKind> {
  readonly kind: K;
  readonly layer: FaultLayer;
  readonly observedBy: ObservedBy;
  /** What ends the fault when the harness cannot: said in the report. */
  readonly deadMan: string;
  /** How repeatable its per-request decisions are with the same seed: said in the report. */
  readonly determinism: string;
  /** Pods the fault is installed in ("<service>-<index>"). */
  pods(fault: FaultOf<K>): string[];
  /**
   * How long before its start the scheduler may apply it: above zero only when what switches the
   * fault starts it on its own clock at `startEpochMs` (so the start does not wait on the harness).
   */
  leadMs(ctx: InjectionContext): number;
  /**
   * Switches the fault on and returns how to switch it off. Throws when it could not, after
   * undoing whatever part of it did get applied (nothing is left half-on).
   */
  apply(fault: FaultOf<K>, ctx: InjectionContext, window: FaultWindow): Promise<Applied>;
}

/** One pod's share of a fault: how to put it on and how to take it off again. */
export interface PodStep {
  pod: string;
  /** Resolves to what it saw (evidence). */
  apply(): Promise<string>;
  /** Idempotent, and safe to call even when apply failed half-way. */
  undo(): Promise<void>;
}

/**
 * Applies every pod's step at once. If any fails, undoes all of them (the failed ones too: their
 * state is unknown) and throws with every pod's reason; otherwise returns the revert of all.
 */
export async function applyAll(steps: PodStep[], finish: () => RevertReport = () => ({})): Promise<Applied> {
  if (steps.length === 0) throw new Error("no pod to apply it to");
  const results = await Promise.allSettled(steps.map((s) => s.apply()));
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${steps[i]!.pod}: ${message(r.reason)}`] : []));
  if (failed.length > 0) {
    const undo = await undoAll(steps);
    throw new Error(failed.join("; ") + (undo.length ? `; undoing the rest also failed: ${undo.join("; ")}` : ""));
  }
  return {
    evidence: results.map((r) => (r as PromiseFulfilledResult<string>).value),
    revert: async () => {
      const errors = await undoAll(steps);
      if (errors.length > 0) throw new Error(errors.join("; "));
      return finish();
    },
  };
}

async function undoAll(steps: PodStep[]): Promise<string[]> {
  const results = await Promise.allSettled([...steps].reverse().map((s) => s.undo()));
  const reversed = [...steps].reverse();
  return results.flatMap((r, i) => (r.status === "rejected" ? [`${reversed[i]!.pod}: ${message(r.reason)}`] : []));
}

/** The started pods with these ids, in the order given; an unknown id is a harness bug and throws. */
export function podsById(ctx: InjectionContext, ids: string[]): StartedPod[] {
  return ids.map((id) => {
    const pod = ctx.pods.find((p) => p.plan.id === id);
    if (!pod) throw new Error(`no running pod ${id} (pods: ${ctx.pods.map((p) => p.plan.id).join(", ")})`);
    return pod;
  });
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
