/// <reference lib="esnext.disposable" />
// A mesh held up for a test's own duration, or for `meshquake up`: the scenario's topology built
// as a run builds it (every replica behind its sidecar, the ingress published on 127.0.0.1), with
// no load and no timeline. Faults are switched on by `inject` — validated as the scenario file
// would validate them, applied through the same injectors, each with its dead-man switch — or
// through the Toxiproxy-compatible API each mesh serves. Disposing it (`await using`, or `close`)
// reverts what is on and removes everything; a process that dies leaves what `meshquake clean`
// removes (every container is labelled with the run and its owner).
import { readFileSync } from "node:fs";
import { dataPlaneFor } from "../dataplane/registry.js";
import { FaultScheduler, type FaultTiming } from "../faults/scheduler.js";
import { buildPlan } from "../plan/plan.js";
import type { ExecutionPlan } from "../plan/types.js";
import { readyEngine } from "../run/engine.js";
import { raiseTopology } from "../run/raise-topology.js";
import { faultErrors, interruptedError, meshLogError, runEnvironment } from "../run/run-outcome.js";
import { newRunId } from "../run/run-id.js";
import { prepareUserImages } from "../run/run-scenario.js";
import { TeardownStack } from "../run/teardown-stack.js";
import { judgeRun, runObservers } from "../run/judge-run.js";
import { playLoad, type PlayState } from "../run/play-load.js";
import { MeshLogStore } from "../record/mesh-log-store.js";
import { currentOwner } from "../runtime/owner.js";
import type { HarnessError, RunReport } from "../model/run-report.js";
import { packageVersion } from "../util/package-root.js";
import type { StartedTopology } from "../runtime/topology.js";
import type { ResolvedFault, ResolvedScenario } from "../scenario/types.js";
import { startToxiproxyApi } from "../toxiproxy/server.js";
import { startStatsPages } from "./stats-pages.js";
import { FaultInputError, resolveFaultInput, type FaultInput } from "./fault-input.js";
import { injectedDuring } from "./injected-during.js";
import { readValid, type RunOptions } from "./run.js";

export type MeshOptions = Pick<RunOptions, "log" | "signal" | "env" | "seed" | "allowOutsideImports" | "pull">;

/** A fault switched on by `inject`: on until reverted (or disposed, or its lease ends). */
export interface InjectedFault extends AsyncDisposable {
  readonly name: string;
  /** When it was sent and confirmed on, its pods and the proxy's evidence (epoch ms). */
  readonly timing: FaultTiming;
  /** Switches it off; resolves once that is confirmed. Idempotent. */
  revert(): Promise<void>;
}

export interface Mesh extends AsyncDisposable {
  readonly runId: string;
  readonly scenario: ResolvedScenario;
  /** http://127.0.0.1:PORT — the load target's inbound side. */
  readonly ingressUrl: string;
  /** http://127.0.0.1:PORT — Toxiproxy's HTTP API over this mesh: one proxy per service. */
  readonly toxiproxyUrl: string;
  /** The pods, `<service>-<i>`. */
  readonly pods: string[];
  /**
   * http://127.0.0.1:PORT — each sidecar's counters (`${statsUrl}/<pod>`, its CSV at
   * `${statsUrl}/<pod>.csv`), read through the runtime API when the page is opened.
   */
  readonly statsUrl: string;
  /**
   * The mesh's Docker network: a container of your own started on it (testcontainers'
   * `withNetworkMode`) reaches each service by name, through that service's sidecar.
   */
  readonly network: string;
  /** The mesh image's reference (Node 18 and the fixture app): a ready image for helpers of your own. */
  readonly image: string;
  /** Switches a fault on now (a scenario `faults:` entry without `at`); throws FaultInputError for a fault the scenario would refuse. */
  inject(fault: FaultInput): Promise<InjectedFault>;
  /**
   * The scenario's load and fault timeline on this mesh, judged by its checks: the report `run`
   * would give, but the topology stays up. One at a time. Faults injected (or set through the
   * Toxiproxy API) while it plays are among the report's faults, as on from when they were applied
   * to when they were reverted (or the load ended), and attribution names them.
   */
  run(): Promise<RunReport>;
  /** Reverts every fault still on, then removes the topology. Idempotent. */
  close(): Promise<void>;
}

/** Builds the scenario's topology and holds it up until closed. */
export async function startMesh(file: string, options: MeshOptions = {}): Promise<Mesh> {
  const scenario = await readValid(file, options);
  const text = readFileSync(file, "utf8");
  const log = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const engine = await readyEngine({ env: options.env ?? process.env, log, signal });
  const runId = newRunId(scenario.name);
  const teardown = new TeardownStack();
  const failure = new AbortController();
  const dataPlane = dataPlaneFor(scenario.dataPlane);
  const ctx = { docker: engine.docker, log, signal, pull: options.pull, adminTransport: engine.local ? ("host" as const) : ("exec" as const) };
  let topology: StartedTopology;
  /** Where the sidecars' lines go: to a run's observers while `run` plays, nowhere otherwise. */
  let sink: ((line: string) => void) | null = null;
  let plan: ExecutionPlan;
  try {
    const images = await prepareUserImages(scenario, ctx, {});
    if (images.error) throw images.error;
    plan = buildPlan({ scenario, runId, image: engine.image, dataPlane, userImages: images.images });
    topology = await raiseTopology(ctx, plan, teardown, { signal: AbortSignal.any([signal, failure.signal]), failure, onSidecarLine: (_pod, line) => sink?.(line) });
  } catch (err) {
    await teardown.unwind();
    throw err;
  }

  const injected: InjectedFault[] = [];
  const onNow = new Set<string>();
  /** Every fault injected on this mesh, with what it was and when it was switched: a run reports those that were on during it. */
  const history: { fault: ResolvedFault; timing: FaultTiming }[] = [];
  let closing: Promise<void> | null = null;
  const inject = async (input: FaultInput): Promise<InjectedFault> => {
    if (closing) throw new Error(`mesh ${runId} is closed`);
    if (failure.signal.aborted) throw new Error(`mesh ${runId} lost its infrastructure: ${String(failure.signal.reason)}`);
    const fault = resolveFaultInput(file, text, input, { seed: options.seed, allowOutsideImports: options.allowOutsideImports });
    // Claimed before the apply, so two injections of one name at once cannot both go on.
    if (onNow.has(fault.name)) {
      throw new FaultInputError(fault.name, [{ severity: "error", file: `inject(${fault.name})`, line: 0, col: 0, path: "fault.name", message: `a fault named ${fault.name} is on already: revert it first` }]);
    }
    onNow.add(fault.name);
    const scheduler = new FaultScheduler({
      faults: [fault],
      timeline: [],
      pods: topology.pods,
      dataPlane,
      docker: engine.docker,
      network: plan.network,
      loadStartEpochMs: Date.now(),
      signal: failure.signal,
      log,
    });
    const timing = await scheduler.applyNow(fault.name).catch((err: unknown) => {
      onNow.delete(fault.name);
      throw err;
    });
    history.push({ fault, timing });
    let reverted: Promise<void> | null = null;
    const revert = () =>
      (reverted ??= scheduler.revertAll().then((errors) => {
        injected.splice(injected.indexOf(handle), 1);
        onNow.delete(fault.name);
        if (errors.length) throw new Error(`reverting ${fault.name}: ${errors.join("; ")}`);
      }));
    const handle: InjectedFault = { name: fault.name, timing, revert, [Symbol.asyncDispose]: revert };
    injected.push(handle);
    if (timing.error) {
      await revert().catch(() => undefined);
      throw new Error(`fault ${fault.name}: ${timing.error}`);
    }
    return handle;
  };

  let running = false;
  const run = async (): Promise<RunReport> => {
    if (closing) throw new Error(`mesh ${runId} is closed`);
    if (running) throw new Error(`a run is already playing on mesh ${runId}`);
    running = true;
    const t0 = Date.now();
    const store = await MeshLogStore.create({ owner: currentOwner() });
    try {
      const observers = runObservers(plan, store);
      sink = (line) => observers.line(line);
      const errors: HarnessError[] = [];
      const played: PlayState = { loadStartEpochMs: 0, scheduler: null, load: null };
      const runTeardown = new TeardownStack();
      let interrupted = false;
      try {
        await playLoad(
          { plan, topology, dataPlane, docker: engine.docker, signal: AbortSignal.any([signal, failure.signal]), now: Date.now, log, record: (sample) => observers.request(sample), teardown: runTeardown },
          played,
        );
        errors.push(...faultErrors(played.scheduler!.records()));
      } catch (err) {
        if (signal.aborted) interrupted = true;
        else errors.push({ stage: "run", message: err instanceof Error ? err.message : String(err) });
      }
      const tTeardown = Date.now();
      for (const e of await runTeardown.unwind()) errors.push({ stage: "teardown", message: e });
      // The last requests' lines are read from the sidecars' logs a moment after they are written:
      // wait until none has arrived for 300 ms (at most 5 s).
      for (let last = -1, quiet = 0, waited = 0; quiet < 3 && waited < 5000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        quiet = store.rows === last ? quiet + 1 : 0;
        last = store.rows;
      }
      sink = null;
      await store.finish();
      errors.push(...meshLogError(store));
      if (interrupted) errors.push(interruptedError());
      const lost = failure.signal.aborted;
      if (lost) errors.push({ stage: "runtime", message: `the mesh lost its infrastructure: ${String(failure.signal.reason)}` });
      const loadStart = played.loadStartEpochMs || t0;
      const extra = played.loadStartEpochMs > 0 ? injectedDuring(history, played.loadStartEpochMs, tTeardown, scenario.load.durationMs) : [];
      return judgeRun({
        loadStartEpochMs: played.loadStartEpochMs,
        faults: [...(played.scheduler?.records() ?? []), ...extra.map((e) => e.timing)],
        load: played.load,
        errors,
        interrupted,
        lost,
        timings: { setupMs: loadStart - t0, runMs: tTeardown - loadStart, teardownMs: Date.now() - tTeardown, steps: {} },
        environment: runEnvironment(engine, dataPlane),
        scenario: extra.length ? { ...scenario, faults: [...scenario.faults, ...extra.map((e) => e.fault)] } : scenario,
        plan,
        runId,
        toolVersion: packageVersion(),
        startedAtEpochMs: t0,
        observers,
        meshLog: store,
      });
    } finally {
      sink = null;
      store.dispose();
      running = false;
    }
  };

  const close = () =>
    (closing ??= (async () => {
      const errors: string[] = [];
      for (const f of [...injected].reverse()) await f.revert().catch((err: unknown) => errors.push(String(err instanceof Error ? err.message : err)));
      errors.push(...(await teardown.unwind()));
      if (errors.length) throw new Error(`closing mesh ${runId}: ${errors.join("; ")}`);
    })());

  try {
    const api = await startToxiproxyApi({ services: scenario.services.map((s) => s.name), inject });
    teardown.push("stop the Toxiproxy API", () => api.close());
    const stats = await startStatsPages(
      topology.pods.map((p) => ({ id: p.plan.id, stats: () => (dataPlane.stats ? dataPlane.stats(p.admin) : Promise.reject(new Error(`the ${dataPlane.name} data plane has no stats`))) })),
    );
    teardown.push("stop the stats pages", () => stats.close());
    signal.addEventListener("abort", () => void close().catch(() => undefined), { once: true });
    return {
      runId,
      scenario,
      ingressUrl: topology.ingressUrl,
      toxiproxyUrl: api.url,
      statsUrl: stats.url,
      pods: topology.pods.map((p) => p.plan.id),
      network: plan.network,
      image: engine.image,
      inject,
      run,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
