// The run proper, on a topology that is up: the scenario's load and its fault timeline played
// together, the progress line fed once a second, and every fault reverted at the end. Whatever it
// starts is registered on `teardown` first; what it learns is written into `state` as it goes, so
// a caller that catches its throw still knows when load started and what the faults did.
import type Docker from "dockerode";
import type { DataPlane } from "../dataplane/types.js";
import { FaultScheduler } from "../faults/scheduler.js";
import { prepareLoad, type LoadResult } from "../load/load-driver.js";
import type { ClientSample } from "../observe/client-recorder.js";
import { ProgressMeter, type ProgressSnapshot } from "../observe/progress.js";
import { describeLoad } from "../plan/describe-load.js";
import type { ExecutionPlan } from "../plan/types.js";
import type { StartedTopology } from "../runtime/topology.js";
import type { TeardownStack } from "./teardown-stack.js";

export interface PlayInput {
  plan: ExecutionPlan;
  topology: StartedTopology;
  dataPlane: DataPlane;
  docker: Docker;
  /** Stops the load and the timeline (faults reverted). */
  signal: AbortSignal;
  now: () => number;
  log: (line: string) => void;
  progress?: ((p: ProgressSnapshot) => void) | undefined;
  /** Each client request as it settles. */
  record: (sample: ClientSample) => void;
  teardown: TeardownStack;
}

export interface PlayState {
  /** Epoch ms the load started at; 0 until then. */
  loadStartEpochMs: number;
  scheduler: FaultScheduler | null;
  load: LoadResult | null;
}

export async function playLoad(p: PlayInput, state: PlayState): Promise<void> {
  const { scenario } = p.plan;
  let meter: ProgressMeter | null = null;
  const prepared = await prepareLoad({
    url: p.topology.ingressUrl,
    load: scenario.load,
    seed: scenario.seed,
    signal: p.signal,
    recorder: {
      record(sample) {
        p.record(sample);
        meter?.record(sample);
      },
    },
    clock: p.now,
  });
  p.teardown.push("stop load generator", () => prepared.dispose());

  p.log(`load: ${describeLoad(scenario.load)} for ${scenario.load.durationMs} ms against ${p.topology.ingressUrl}`);
  state.loadStartEpochMs = p.now();
  const s = (state.scheduler = new FaultScheduler({
    faults: scenario.faults,
    timeline: p.plan.timeline,
    pods: p.topology.pods,
    dataPlane: p.dataPlane,
    docker: p.docker,
    network: p.plan.network,
    loadStartEpochMs: state.loadStartEpochMs,
    now: p.now,
    signal: p.signal,
    log: p.log,
  }));
  p.teardown.push("revert faults", async () => {
    const errs = await s.revertAll();
    if (errs.length) throw new Error(errs.join("; "));
  });
  if (p.progress) {
    const m = (meter = new ProgressMeter(scenario.load.durationMs, state.loadStartEpochMs));
    const on = () => s.records().flatMap((t) => (t.appliedAt !== null && t.revertSentAt === null ? [t.name] : []));
    const show = p.progress;
    const timer = setInterval(() => show(m.snapshot(p.now(), on())), 1000);
    p.teardown.push("stop the progress line", async () => clearInterval(timer));
  }
  const [load] = await Promise.all([prepared.start(state.loadStartEpochMs), s.play()]);
  state.load = load;
  await s.revertAll();
}
