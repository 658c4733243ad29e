import type Docker from "dockerode";
import type { DataPlane } from "../dataplane/types.js";
import type { TimelineEntry } from "../plan/types.js";
import type { StartedPod } from "../runtime/topology.js";
import type { ResolvedFault } from "../scenario/types.js";
import { message, type FaultCounters, type InjectionContext, type ObservedBy, type Revert } from "./injector.js";
import { FAULT_INJECTORS, injectorFor, type FaultRegistry } from "./registry.js";

/**
 * When a fault was really switched, in epoch ms (the report makes them relative to load start).
 * appliedAt is when it was certainly on: confirmed by the injector, and not before its start.
 */
export interface FaultTiming {
  name: string;
  applySentAt: number | null;
  /** When the injector confirmed the fault on (proxy replied, rules listed, container state seen). */
  appliedAt: number | null;
  revertSentAt: number | null;
  revertedAt: number | null;
  error: string | null;
  /** The scheduled start, and the scheduled end handed to the dead-man switch. */
  startEpochMs?: number | null;
  untilEpochMs?: number | null;
  /**
   * When the injector confirmed the fault set, if it was sent ahead of its start (the proxy then
   * starts it on its own clock: appliedAt is the start).
   */
  armedAt?: number | null;
  /** Pods the fault was installed in. */
  pods?: string[];
  /** What the injector saw once the fault was on. */
  evidence?: string[];
  /** What the proxy counted while a runtime fault was on, when the data plane reports it. */
  counters?: FaultCounters | null;
  /** Who switched it off: the timeline at its end, or the teardown (end of load, failure, signal). */
  revertedBy?: "schedule" | "teardown" | null;
  observedBy?: ObservedBy;
  deadMan?: string;
  determinism?: string;
}

export interface SchedulerInput {
  faults: ResolvedFault[];
  timeline: TimelineEntry[];
  pods: StartedPod[];
  dataPlane: DataPlane;
  /** The engine, for faults outside the proxy (partition, bandwidth, kill, pause). */
  docker: Docker;
  /** The run network (pods' addresses for partitions). */
  network: string;
  /** Epoch ms at which load started: timeline times are relative to it. */
  loadStartEpochMs: number;
  injectors?: FaultRegistry;
  now?: () => number;
  /** Aborting stops the timeline and reverts everything still on, newest first. */
  signal?: AbortSignal;
  /** One line per switch, for progress output. */
  log?: (line: string) => void;
}

interface FaultState {
  fault: ResolvedFault;
  timing: FaultTiming;
  applying: Promise<void> | null;
  revert: Revert | null;
  /** Resolves to the revert's error, or null. */
  reverting: Promise<string | null> | null;
}

/**
 * Plays the fault timeline against the running pods through the injector registry. Entries start
 * at their time without waiting for slower ones, so overlapping faults keep their schedule; a
 * revert waits for its own apply. Every apply hands its scheduled end to a dead-man switch that
 * outlives the harness. `revertAll` (the run's teardown; also started by the abort signal)
 * reverts whatever is still on, newest first, after waiting for applies in flight.
 */
export class FaultScheduler {
  private readonly states = new Map<string, FaultState>();
  /** Fault names in the order their apply started. */
  private readonly applied: string[] = [];
  /** How early each fault's apply is sent (see FaultInjector.leadMs). */
  private readonly leads = new Map<string, number>();
  private readonly now: () => number;
  private readonly registry: FaultRegistry;
  private readonly context: InjectionContext;
  private readonly stop = new AbortController();
  private closing: Promise<string[]> | null = null;
  private errorsReported = false;

  constructor(private readonly input: SchedulerInput) {
    this.now = input.now ?? Date.now;
    this.registry = input.injectors ?? FAULT_INJECTORS;
    this.context = { docker: input.docker, dataPlane: input.dataPlane, pods: input.pods, network: input.network };
    for (const fault of input.faults) {
      const injector = injectorFor(this.registry, fault.kind);
      const timing: FaultTiming = {
        name: fault.name,
        applySentAt: null,
        appliedAt: null,
        revertSentAt: null,
        revertedAt: null,
        error: null,
        startEpochMs: null,
        untilEpochMs: null,
        armedAt: null,
        pods: injector.pods(fault),
        evidence: [],
        counters: null,
        revertedBy: null,
        observedBy: injector.observedBy,
        deadMan: injector.deadMan,
        determinism: injector.determinism,
      };
      this.states.set(fault.name, { fault, timing, applying: null, revert: null, reverting: null });
      this.leads.set(fault.name, Math.max(0, injector.leadMs(this.context)));
    }
    // An interrupted run (SIGINT, SIGTERM) reverts at once, whoever else is still busy.
    if (input.signal?.aborted) void this.close();
    else input.signal?.addEventListener("abort", () => void this.close(), { once: true });
  }

  /**
   * Runs every timeline entry at its time (an apply up to its injector's lead earlier, so that the
   * fault itself starts on time); resolves when all are done, or at once when stopped.
   */
  async play(): Promise<void> {
    const signal = this.input.signal ? AbortSignal.any([this.input.signal, this.stop.signal]) : this.stop.signal;
    const running: Promise<void>[] = [];
    const fireAt = (e: TimelineEntry) => e.atMs - (e.action === "apply" ? (this.leads.get(e.fault) ?? 0) : 0);
    const entries = [...this.input.timeline].sort(
      (a, b) => fireAt(a) - fireAt(b) || (a.action === b.action ? 0 : a.action === "revert" ? -1 : 1),
    );
    for (const entry of entries) {
      const wait = this.input.loadStartEpochMs + fireAt(entry) - this.now();
      if (wait > 0 && !(await sleep(wait, signal))) break;
      if (signal.aborted) break;
      const state = this.states.get(entry.fault);
      if (!state) continue;
      running.push(entry.action === "apply" ? this.apply(state) : this.revert(state, "schedule").then(() => undefined));
    }
    await Promise.all(running);
  }

  /**
   * Stops the timeline and reverts every fault still on, newest first. Idempotent: every call
   * waits for the same reverts; the revert errors are returned once, to the first caller that asks.
   */
  async revertAll(): Promise<string[]> {
    const errors = await this.close();
    if (this.errorsReported) return [];
    this.errorsReported = true;
    return errors;
  }

  private close(): Promise<string[]> {
    this.closing ??= (async () => {
      this.stop.abort();
      const errors: string[] = [];
      for (const name of [...this.applied].reverse()) {
        const error = await this.revert(this.states.get(name)!, "teardown");
        if (error) errors.push(`${name}: ${error}`);
      }
      return errors;
    })();
    return this.closing;
  }

  /** Applies one fault now, outside the timeline (a fault injected at runtime); resolves once it is on or failed (see its timing's error). */
  async applyNow(name: string): Promise<FaultTiming> {
    const state = this.states.get(name);
    if (!state) throw new Error(`no fault named ${name} here`);
    await this.apply(state);
    return state.timing;
  }

  records(): FaultTiming[] {
    return [...this.states.values()].map((s) => s.timing);
  }

  private apply(state: FaultState): Promise<void> {
    const { fault, timing } = state;
    if (this.stop.signal.aborted || state.applying) return Promise.resolve();
    const injector = injectorFor(this.registry, fault.kind);
    const startEpochMs = this.input.loadStartEpochMs + fault.atMs;
    const untilEpochMs = startEpochMs + fault.durationMs;
    timing.startEpochMs = startEpochMs;
    timing.untilEpochMs = untilEpochMs;
    timing.applySentAt = this.now();
    this.applied.push(fault.name);
    state.applying = (async () => {
      if (untilEpochMs <= timing.applySentAt!) {
        timing.error = `not applied: its scheduled end had passed when its turn came (${timing.applySentAt! - untilEpochMs} ms late)`;
        return;
      }
      try {
        const applied = await injector.apply(fault, this.context, { startEpochMs, untilEpochMs });
        const confirmedAt = this.now();
        if (confirmedAt < startEpochMs) timing.armedAt = confirmedAt;
        timing.appliedAt = Math.max(confirmedAt, startEpochMs);
        timing.evidence = applied.evidence;
        state.revert = applied.revert;
        this.input.log?.(`fault ${fault.name} ${timing.armedAt === null ? "on" : "set, on from its start"} (${fault.kind}, ${confirmedAt - timing.applySentAt!} ms to apply)`);
      } catch (err) {
        timing.error = `apply failed: ${message(err)}`;
        this.input.log?.(`fault ${fault.name}: ${timing.error}`);
      }
    })();
    return state.applying;
  }

  /** Reverts once; a second caller waits for the first. Resolves to the revert's error, or null. */
  private async revert(state: FaultState, by: "schedule" | "teardown"): Promise<string | null> {
    if (state.applying) await state.applying;
    if (state.reverting) return state.reverting;
    const revert = state.revert;
    if (!revert) return null;
    state.revert = null;
    const { timing } = state;
    state.reverting = (async () => {
      timing.revertSentAt = this.now();
      timing.revertedBy = by;
      // Set ahead of its start and taken back before it: it never acted.
      if (timing.appliedAt !== null && timing.appliedAt > timing.revertSentAt) {
        timing.appliedAt = null;
        timing.evidence = [...(timing.evidence ?? []), "reverted before its scheduled start: it never acted"];
      }
      try {
        const report = await revert();
        timing.revertedAt = this.now();
        if (report.counters) timing.counters = report.counters;
        if (report.evidence) timing.evidence = [...(timing.evidence ?? []), ...report.evidence];
        this.input.log?.(`fault ${timing.name} off (${by === "schedule" ? "scheduled end" : "teardown"})`);
        return null;
      } catch (err) {
        const error = `revert failed: ${message(err)}`;
        timing.error = `${timing.error ? `${timing.error}; ` : ""}${error}`;
        this.input.log?.(`fault ${timing.name}: ${error}`);
        return error;
      }
    })();
    return state.reverting;
  }
}

/** Resolves true after `ms`, or false at once when the signal fires. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
