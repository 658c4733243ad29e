import type { DataPlane } from "../dataplane/types.js";
import type { TimelineEntry } from "../plan/types.js";
import type { StartedPod } from "../runtime/topology.js";
import type { ResolvedFault } from "../scenario/types.js";
import { faultPods } from "./targets.js";

/** When a fault was really switched, in epoch ms (the report makes them relative to load start). */
export interface FaultTiming {
  name: string;
  applySentAt: number | null;
  appliedAt: number | null;
  revertSentAt: number | null;
  revertedAt: number | null;
  error: string | null;
}

export interface SchedulerInput {
  faults: ResolvedFault[];
  timeline: TimelineEntry[];
  pods: StartedPod[];
  dataPlane: DataPlane;
  /** Epoch ms at which load started: timeline times are relative to it. */
  loadStartEpochMs: number;
  now?: () => number;
  signal?: AbortSignal;
}

/**
 * Plays the fault timeline against the running pods. Each apply carries the fault's scheduled
 * end as a dead-man switch inside the proxy, so a harness that dies mid-fault leaves nothing
 * active past that end. `revertAll` (registered as a teardown) reverts whatever is still on,
 * newest first.
 */
export class FaultScheduler {
  private readonly timings = new Map<string, FaultTiming>();
  private readonly active: ResolvedFault[] = [];
  private readonly now: () => number;
  private readonly byName: Map<string, ResolvedFault>;

  constructor(private readonly input: SchedulerInput) {
    this.now = input.now ?? Date.now;
    this.byName = new Map(input.faults.map((f) => [f.name, f]));
    for (const f of input.faults) {
      this.timings.set(f.name, { name: f.name, applySentAt: null, appliedAt: null, revertSentAt: null, revertedAt: null, error: null });
    }
  }

  /** Runs every timeline entry at its time; resolves when the last one is done or the signal fires. */
  async play(): Promise<void> {
    for (const entry of this.input.timeline) {
      const wait = this.input.loadStartEpochMs + entry.atMs - this.now();
      if (wait > 0 && !(await sleep(wait, this.input.signal))) return;
      const fault = this.byName.get(entry.fault)!;
      if (entry.action === "apply") await this.apply(fault);
      else await this.revert(fault);
    }
  }

  async revertAll(): Promise<string[]> {
    const errors: string[] = [];
    for (const fault of [...this.active].reverse()) {
      await this.revert(fault);
      const t = this.timings.get(fault.name)!;
      if (t.error) errors.push(`${fault.name}: ${t.error}`);
    }
    return errors;
  }

  records(): FaultTiming[] {
    return [...this.timings.values()];
  }

  private async apply(fault: ResolvedFault): Promise<void> {
    const t = this.timings.get(fault.name)!;
    const untilEpochMs = this.input.loadStartEpochMs + fault.atMs + fault.durationMs;
    t.applySentAt = this.now();
    this.active.push(fault);
    try {
      await Promise.all(this.podsOf(fault).map((p) => this.input.dataPlane.applyFault(p.admin, { fault, untilEpochMs })));
      t.appliedAt = this.now();
    } catch (err) {
      t.error = `apply failed: ${message(err)}`;
    }
  }

  private async revert(fault: ResolvedFault): Promise<void> {
    const i = this.active.indexOf(fault);
    if (i < 0) return;
    this.active.splice(i, 1);
    const t = this.timings.get(fault.name)!;
    t.revertSentAt = this.now();
    try {
      await Promise.all(this.podsOf(fault).map((p) => this.input.dataPlane.revertFault(p.admin, fault)));
      t.revertedAt = this.now();
    } catch (err) {
      t.error = `${t.error ? `${t.error}; ` : ""}revert failed: ${message(err)}`;
    }
  }

  private podsOf(fault: ResolvedFault): StartedPod[] {
    const ids = new Set(faultPods(fault));
    return this.input.pods.filter((p) => ids.has(p.plan.id));
  }
}

/** Resolves true after `ms`, or false at once when the signal fires. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
