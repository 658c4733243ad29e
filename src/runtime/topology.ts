import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type Docker from "dockerode";
import PQueue from "p-queue";
import { dataPlaneFor } from "../dataplane/registry.js";
import type { AdminChannel } from "../dataplane/types.js";
import { POD_PORTS, SIDECAR_ACCESS_LOG, SIDECAR_DIR, SIDECAR_GATE, type ExecutionPlan, type PodPlan } from "../plan/types.js";
import { asSidecar, SIDECAR_UID } from "../dataplane/sidecar-user.js";
import { execAdminChannel, unixAdminChannel, type AdminTransport } from "./admin-channel.js";
import { AppExitedError, describeReadiness, probeApp, type PodContainers } from "./app-readiness.js";
import { confinement, FIXTURE_USER } from "./container-limits.js";
import { streamingClient } from "./docker.js";
import { eachPod } from "./each-pod.js";
import { execOk } from "./exec.js";
import { POD_LABEL, ROLE_LABEL } from "./labels.js";
import { followLogs, logTail } from "./log-stream.js";
import { tailFiles } from "./log-tail.js";
import { currentOwner, ownerLabels, type RunOwner } from "./owner.js";
import { createRunDir, type RunDir } from "./run-dir.js";
import { tarFiles } from "./tar.js";
import { writePodCredentials } from "./tls-files.js";
import { waitFor } from "./wait-for.js";

export const POD_INIT = "/usr/local/lib/meshquake/pod/pod-init.sh";
/**
 * Containers created and started at once. The engine serialises most of a start (~0.5 s for a
 * container with its own network namespace, ~0.15 s for one that joins another's, on a 2-core
 * machine, however many are asked for at once): the 32-pod bench came up in 44 s with 1 at once,
 * 37 s with 2 and 41 s with 4; more only queue inside the engine and compete with the pods
 * already starting (bench/topology.bench.ts varies it).
 */
export const POD_CONCURRENCY = 2;
const READY_MARKER = "meshquake: pod network ready";

export interface StartedPod {
  plan: PodPlan;
  /** The proxy container (namespace, interception rules, sidecar) and the app that joins it. */
  ids: { proxy: string; app: string };
  admin: AdminChannel;
  /** The sidecar's admin socket as this machine reaches it, or null when reached through docker exec. */
  adminSocket: string | null;
}

export interface StartedTopology {
  pods: StartedPod[];
  /** http://127.0.0.1:<port> — the ingress service's inbound listener. */
  ingressUrl: string;
  /** Stops following the sidecars' logs. */
  stopLogs(): Promise<void>;
}

export interface TopologyOptions {
  /** Every line a sidecar writes, tagged with its pod. */
  onSidecarLine: (pod: PodPlan, line: string) => void;
  signal?: AbortSignal;
  readinessTimeoutMs?: number;
  /** Step timings, for the report. */
  onStep?: (step: string, ms: number) => void;
  /**
   * "host" (default): each sidecar's admin socket lives in its pod's directory of the run
   * directory, reached from here directly. "exec": for an engine that does not share this
   * machine's files (connectDocker's `local`): the socket stays in the sidecar, reached by docker exec.
   */
  adminTransport?: AdminTransport;
  /** The run's host directory; made here when absent (cleanLeftovers removes it with the run). */
  runDir?: RunDir;
  /** Containers created and started at once (default POD_CONCURRENCY); the topology bench varies it to find the knee. */
  podConcurrency?: number;
  /** The harness process the run belongs to (labels every container and network); default this one. */
  owner?: RunOwner;
}

/**
 * Builds the plan's topology: the network, then every pod (its proxy container, which owns the
 * network namespace, installs the interception rules and becomes the sidecar, then its app: the
 * fixture or the user's image, in depends_on order; see startPods), then waits until a request
 * crosses the whole mesh. Tearing
 * down is the caller's job (cleanLeftovers by run id), registered before this starts, so a
 * half-built topology goes too: when a step fails or the signal aborts, no further container is
 * created and every engine call already made has settled before this throws, so nothing appears
 * after the teardown looked.
 */
export async function startTopology(docker: Docker, plan: ExecutionPlan, opts: TopologyOptions): Promise<StartedTopology> {
  const timeoutMs = opts.readinessTimeoutMs ?? 30_000;
  const transport = opts.adminTransport ?? "host";
  const signal = opts.signal;
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    signal?.throwIfAborted();
    const t0 = Date.now();
    const r = await fn();
    opts.onStep?.(name, Date.now() - t0);
    return r;
  };
  const owner = opts.owner ?? currentOwner();
  const runLabels = { ...plan.labels, ...ownerLabels(owner) };
  const labels = (pod: PodPlan, role: string) => ({ ...runLabels, [ROLE_LABEL]: role, [POD_LABEL]: pod.id });
  const runDir =
    transport === "host" ? (opts.runDir ?? (await createRunDir(plan.runId, owner, { sidecarUid: SIDECAR_UID, pods: plan.pods.length }))) : null;

  if (plan.pods.some((p) => p.mtls)) {
    // The credentials live in the pods' directories of the run directory (never in an image or a container layer).
    if (!runDir) throw new Error("mutual TLS needs the run directory on this machine (adminTransport host); this engine does not share its files");
    await step("certificates", () => writePodCredentials(runDir, plan, { sidecarUid: SIDECAR_UID }));
  }

  await step("network", () => docker.createNetwork({ Name: plan.network, Labels: runLabels, CheckDuplicate: true, Driver: "bridge" }));

  // Each stops following one source of sidecar lines and settles once its last line is handed over.
  const logStops: Array<() => Promise<void>> = [];
  const stopLogs = async () => {
    await Promise.all(logStops.splice(0).map((stop) => stop()));
  };
  const streams = streamingClient(docker);
  try {
    if (runDir) {
      const files = await Promise.all(plan.pods.map(async (pod, i) => ({ key: pod, path: join(await runDir.podDir(i), basename(SIDECAR_ACCESS_LOG)) })));
      const tail = tailFiles(files, (pod, lines) => {
        for (const line of lines) opts.onSidecarLine(pod, line);
      });
      logStops.push(() => tail.stop());
    }
    const concurrency = opts.podConcurrency ?? POD_CONCURRENCY;
    const follow = { streams, onSidecarLine: opts.onSidecarLine, logStops };
    const pods = await step("pods", () => startPods(docker, plan, { runDir, labels, timeoutMs, signal, concurrency, follow }));
    const ingressIndex = plan.pods.findIndex((p) => p.publishInbound);
    const ingressUrl = `http://127.0.0.1:${publishedPort(await docker.getContainer(pods[ingressIndex]!.ids.proxy).inspect(), POD_PORTS.inbound)}`;

    // Any answer below 500 shows the mesh carries traffic end to end; a user's app may answer 404 on a probe path.
    const probeUrl = `${ingressUrl}${plan.meshProbe.path}`;
    await step("mesh", () =>
      waitFor((probe) => fetch(probeUrl, { signal: probe }).then((r) => r.status < 500), {
        what: `a request through the whole mesh: GET ${probeUrl} answering below 500`,
        timeoutMs,
        intervalMs: 100,
        signal,
        logTail: async () => (await Promise.all(pods.map((p) => logTail(docker, p.ids.proxy, 3)))).flat(),
      }),
    );

    return {
      pods,
      ingressUrl,
      async stopLogs() {
        // Give the last log lines a moment to arrive before cutting the streams.
        await new Promise((r) => setTimeout(r, 300));
        await stopLogs();
      },
    };
  } catch (err) {
    await stopLogs();
    throw err;
  }
}

function publishedPort(info: Docker.ContainerInspectInfo, port: number): number {
  const binding = info.NetworkSettings.Ports?.[`${port}/tcp`]?.[0];
  if (!binding) throw new Error(`container ${info.Name} has no published port for ${port}/tcp`);
  return Number(binding.HostPort);
}

/**
 * A pod's proxy container: joins the run network under the pod's names, installs the interception
 * rules as root, then waits for the harness's go (SIDECAR_GATE) to become the sidecar as its own
 * uid, with no capability left (images/pod/pod-init.sh). It carries the sidecar's files from the start.
 */
async function startProxy(
  docker: Docker,
  plan: ExecutionPlan,
  pod: PodPlan,
  opts: { labels: Record<string, string>; podDir: string | null },
  stop: AbortSignal,
): Promise<Docker.Container> {
  const ports: Record<string, [{ HostIp: string; HostPort: string }]> = {};
  if (pod.publishInbound) ports[`${POD_PORTS.inbound}/tcp`] = [{ HostIp: "127.0.0.1", HostPort: "" }];
  // The sidecar's own directory: its pod's directory of the run directory, or (exec) a private tmpfs; never the app's.
  const dir = opts.podDir ? { Binds: [`${opts.podDir}:${SIDECAR_DIR}`] } : { Tmpfs: { [SIDECAR_DIR]: `uid=${SIDECAR_UID},gid=${SIDECAR_UID},mode=0700,size=16m` } };
  const env = {
    MQ_APP_PORT: pod.app.port,
    MQ_OUTBOUND_PORT: POD_PORTS.outbound,
    MQ_INBOUND_PORT: POD_PORTS.inbound,
    MQ_PROXY_UID: SIDECAR_UID,
    MQ_SIDECAR_GATE: SIDECAR_GATE,
    // With a host directory, the access log goes to a file there (tailed by the harness): no line passes through Docker's logging.
    ...(opts.podDir ? { [pod.sidecar.accessLogEnv]: SIDECAR_ACCESS_LOG } : {}),
  };
  const c = await docker.createContainer({
    name: pod.containers.proxy,
    Hostname: pod.id,
    Image: plan.image,
    Cmd: [POD_INIT, ...pod.sidecar.command],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: opts.labels,
    ExposedPorts: Object.fromEntries(Object.keys(ports).map((p) => [p, {}])),
    HostConfig: { NetworkMode: plan.network, PortBindings: ports, ...dir, ...confinement("proxy") },
    NetworkingConfig: { EndpointsConfig: { [plan.network]: { Aliases: pod.aliases } } },
  });
  stop.throwIfAborted();
  await c.putArchive(tarFiles(pod.sidecar.files), { path: "/" });
  stop.throwIfAborted();
  await c.start();
  return c;
}

const PROXY_PRIORITY = 0;
const APP_PRIORITY = 1;

interface PodsSetup {
  runDir: RunDir | null;
  labels: (pod: PodPlan, role: string) => Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  concurrency: number;
  /** Where the engine does not share this machine's files: how a sidecar's lines are followed through Docker's log. */
  follow: { streams: Docker; onSidecarLine: TopologyOptions["onSidecarLine"]; logStops: Array<() => Promise<void>> };
}

/** A promise with its resolver, observed elsewhere (its rejection is never left unhandled). */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: unknown) => void } {
  let open!: () => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  promise.catch(() => {});
  return { promise, open, fail };
}

/**
 * Every pod, each its own pipeline: its proxy container (waited for until its interception rules
 * are in), its sidecar once every replica name it routes to is on the network (a name not there
 * yet costs a DNS timeout per server when HAProxy starts), waited for until its runtime API
 * answers, then its app (Istio's holdApplicationUntilProxyStarts: an app that calls a dependency
 * while starting finds the outbound listener its traffic is redirected to), once every replica of
 * the services it depends on is ready (compose depends_on), waited for itself. The engine work
 * (creating and starting a container) goes `concurrency` at a time, callees' pods first, so a
 * pod's sidecar and app start while later pods are still being created. An app that exits while
 * starting ends the wait at once, with its last log lines; any failure stops the others (eachPod).
 */
async function startPods(docker: Docker, plan: ExecutionPlan, setup: PodsSetup): Promise<StartedPod[]> {
  const { runDir, timeoutMs } = setup;
  // Apps before proxies: an app started early boots (CPU) while the engine creates the next proxies.
  const queue = new PQueue({ concurrency: setup.concurrency });
  const engine = <T>(priority: number, fn: () => Promise<T>) => queue.add(fn, { priority }) as Promise<T>;
  const onNetwork = new Map(plan.pods.map((pod) => [pod.id, gate()]));
  // One gate per service, opened when every replica's app is ready; dependents wait on it.
  const appsReady = new Map<string, ReturnType<typeof gate> & { left: number }>();
  for (const pod of plan.pods) {
    const g = appsReady.get(pod.service);
    if (g) g.left++;
    else appsReady.set(pod.service, { ...gate(), left: 1 });
  }
  const started: StartedPod[] = new Array(plan.pods.length);
  const protocol = dataPlaneFor(plan.scenario.dataPlane).admin;
  await eachPod(calleesFirst(plan.pods), setup.signal, async ({ pod, index: i }, _n, stop) => {
    const serviceGate = appsReady.get(pod.service)!;
    try {
      const podDir = runDir ? await runDir.podDir(i) : null;
      const proxy = await engine(PROXY_PRIORITY, () => (stop.throwIfAborted(), startProxy(docker, plan, pod, { labels: setup.labels(pod, "proxy"), podDir }, stop)));
      await waitFor(async () => (await logTail(docker, proxy.id, 50)).some((l) => l.includes(READY_MARKER)), {
        what: `${pod.id}: interception rules installed (proxy container ${pod.containers.proxy})`,
        timeoutMs,
        signal: stop,
        logTail: () => logTail(docker, proxy.id),
      });
      onNetwork.get(pod.id)!.open();

      await untilAborted(Promise.all(pod.sidecar.resolves.map((name) => onNetwork.get(name)?.promise)), stop);
      if (podDir) await writeFile(join(podDir, basename(SIDECAR_GATE)), "");
      else {
        // As the sidecar: its directory is its own, and the container's root has no DAC override.
        await execOk(docker, proxy.id, `${pod.id}: start the sidecar`, asSidecar(["touch", SIDECAR_GATE]));
        const { streams, onSidecarLine, logStops } = setup.follow;
        const follow = await followLogs(streams, proxy.id, (line) => onSidecarLine(pod, line));
        logStops.push(() => (follow.stop(), follow.done));
      }
      const socket = runDir ? runDir.adminSocket(i) : null;
      const admin = socket ? unixAdminChannel(socket, protocol) : execAdminChannel(docker, proxy.id, protocol);
      await waitFor(async () => (await admin.send(protocol.readiness.command)).includes(protocol.readiness.answerIncludes), {
        what: `${pod.id}: sidecar runtime API answering on ${socket ?? `${SIDECAR_DIR} (through docker exec)`}`,
        timeoutMs,
        signal: stop,
        logTail: () => logTail(docker, proxy.id),
      });

      await untilAborted(Promise.all(pod.app.startAfter.map((service) => appsReady.get(service)?.promise)), stop);
      const app = await engine(APP_PRIORITY, () => (stop.throwIfAborted(), startApp(docker, pod, proxy.id, setup.labels(pod, "app"), stop)));
      await waitForApp(docker, { plan: pod, ids: { proxy: proxy.id, app: app.id } }, { timeoutMs, signal: stop });
      if (pod.app.kind === "user") await refuseSidecarUid(pod, app);
      if (--serviceGate.left === 0) serviceGate.open();
      started[i] = { plan: pod, ids: { proxy: proxy.id, app: app.id }, admin, adminSocket: socket };
    } catch (err) {
      onNetwork.get(pod.id)!.fail(err);
      serviceGate.fail(err);
      throw err;
    }
  });
  return started;
}

/**
 * Pods ordered so that the replicas a sidecar routes to come before it where the calls allow
 * (depth-first, callees first; a cycle keeps the order it was met in). The engine creates pods in
 * this order, so the first sidecars can start while the rest are still being created.
 */
export function calleesFirst(pods: readonly PodPlan[]): Array<{ pod: PodPlan; index: number }> {
  const byId = new Map(pods.map((pod, index) => [pod.id, { pod, index }]));
  const seen = new Set<string>();
  const out: Array<{ pod: PodPlan; index: number }> = [];
  const visit = (id: string) => {
    const entry = byId.get(id);
    if (!entry || seen.has(id)) return;
    seen.add(id);
    for (const name of entry.pod.sidecar.resolves) visit(name);
    out.push(entry);
  };
  for (const pod of pods) visit(pod.id);
  return out;
}

/** A pod's app container, created in its proxy container's network namespace and started. */
async function startApp(docker: Docker, pod: PodPlan, proxyId: string, labels: Record<string, string>, stop: AbortSignal): Promise<Docker.Container> {
  const app = pod.app;
  const user = app.kind === "fixture" ? FIXTURE_USER : app.user;
  const c = await docker.createContainer({
    name: pod.containers.app,
    Image: app.image,
    Env: Object.entries(app.env).map(([k, v]) => `${k}=${v}`),
    ...(app.command ? { Cmd: app.command } : {}),
    ...(app.entrypoint ? { Entrypoint: app.entrypoint } : {}),
    ...(user ? { User: user } : {}),
    ...(app.workingDir ? { WorkingDir: app.workingDir } : {}),
    Labels: labels,
    HostConfig: { NetworkMode: `container:${proxyId}`, ...confinement("app", app) },
  });
  stop.throwIfAborted();
  await c.start();
  return c;
}

/** Rejects with the signal's reason as soon as it aborts, whatever `p` does. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * An app whose process runs as the sidecar's uid would bypass the mesh (the interception exempts
 * that uid), whatever name its image's USER gave it or whichever user its entrypoint stepped down to.
 */
async function refuseSidecarUid(pod: PodPlan, c: Docker.Container): Promise<void> {
  const top = (await c.top({ ps_args: "-o pid,uid,args" })) as { Titles: string[]; Processes: string[][] };
  const uid = top.Titles.indexOf("UID");
  const offender = top.Processes.find((p) => Number(p[uid]) === SIDECAR_UID);
  if (offender) {
    throw new Error(
      `${pod.id}: the app (${pod.app.image}) runs "${offender.slice(2).join(" ")}" as uid ${SIDECAR_UID}, the sidecar's own: the pod's ` +
        `interception lets that uid's traffic bypass the mesh, so its calls would not be meshed. Run it as another user (user: in the scenario, or the image's USER).`,
    );
  }
}

async function waitForApp(docker: Docker, pod: PodContainers, opts: { timeoutMs: number; signal: AbortSignal }): Promise<void> {
  // An app that exited will never be ready: stop waiting at once, with its exit code and logs.
  const exited = new AbortController();
  const signal = AbortSignal.any([opts.signal, exited.signal]);
  try {
    await waitFor(
      async (probe) => {
        try {
          return await probeApp(docker, pod, probe);
        } catch (err) {
          if (err instanceof AppExitedError) exited.abort(err);
          throw err;
        }
      },
      {
        what: `${pod.plan.id}: ${describeReadiness(pod.plan.app)}`,
        timeoutMs: opts.timeoutMs,
        intervalMs: 100,
        signal,
        logTail: () => logTail(docker, pod.ids.app),
      },
    );
  } catch (err) {
    if (exited.signal.aborted) throw exited.signal.reason;
    throw err;
  }
}
