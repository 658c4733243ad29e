import { basename, join } from "node:path";
import type Docker from "dockerode";
import type { AdminChannel } from "../dataplane/types.js";
import { POD_PORTS, SIDECAR_ACCESS_LOG, SIDECAR_DIR, type ExecutionPlan, type PodPlan } from "../plan/types.js";
import { SIDECAR_UID } from "../scenario/sidecar-user.js";
import { execAdminChannel, unixAdminChannel, type AdminTransport } from "./admin-channel.js";
import { AppExitedError, describeReadiness, probeApp, type PodContainers } from "./app-readiness.js";
import { confinement, FIXTURE_USER, SIDECAR_USER } from "./container-limits.js";
import { streamingClient } from "./docker.js";
import { eachPod } from "./each-pod.js";
import { ROLE_LABEL } from "./labels.js";
import { followLogs, logTail } from "./log-stream.js";
import { tailFiles } from "./log-tail.js";
import { currentOwner, ownerLabels, type RunOwner } from "./owner.js";
import { createRunDir, type RunDir } from "./run-dir.js";
import { tarFiles } from "./tar.js";
import { waitFor } from "./wait-for.js";

export const POD_INIT = "/usr/local/lib/meshquake/pod/pod-init.sh";
/**
 * Pods set up at once. The engine serialises most of a container's create and start (~0.5 s each
 * on a 2-core machine, however many are asked for at once): the 32-pod bench
 * (bench/topology.bench.ts) came up in 52-53 s with 1 or 4 at once, 54 s with 8, 57 s with 16 and
 * 67 s with all 32, which only queue inside the engine and compete with the probes.
 */
export const POD_CONCURRENCY = 4;
const READY_MARKER = "meshquake: pod network ready";

export interface StartedPod {
  plan: PodPlan;
  ids: { infra: string; app: string; sidecar: string };
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
  /** Pods set up at once (default POD_CONCURRENCY); the topology bench varies it to find the knee. */
  podConcurrency?: number;
  /** The harness process the run belongs to (labels every container and network); default this one. */
  owner?: RunOwner;
}

/**
 * Builds the plan's topology: network, then every pod's infra container (it owns the network
 * namespace and installs the interception rules), then sidecars, then apps (the fixture or the
 * user's image, in depends_on order), then waits until a request crosses the whole mesh. Tearing
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
  const labels = (pod: PodPlan, role: string) => ({ ...runLabels, [ROLE_LABEL]: role, "meshquake.pod": pod.id });
  const runDir =
    transport === "host" ? (opts.runDir ?? (await createRunDir(plan.runId, owner, { sidecarUid: SIDECAR_UID, pods: plan.pods.length }))) : null;

  await step("network", () => docker.createNetwork({ Name: plan.network, Labels: runLabels, CheckDuplicate: true, Driver: "bridge" }));

  // Each stops following one source of sidecar lines and settles once its last line is handed over.
  const logStops: Array<() => Promise<void>> = [];
  const stopLogs = async () => {
    await Promise.all(logStops.splice(0).map((stop) => stop()));
  };
  const streams = streamingClient(docker);
  const admins: Array<{ socket: string | null; admin: AdminChannel }> = [];
  try {
    // Every pod's infra container first, a few at a time (the engine serialises much of a
    // create: see POD_CONCURRENCY), each waited for until its interception rules are in: the
    // sidecars resolve every replica's name when they start, and a name not on the network yet
    // costs a DNS timeout per server. Then every sidecar, waited for until its runtime API
    // answers. Sidecars come before any app (Istio's holdApplicationUntilProxyStarts): an app
    // that calls a dependency while starting must find the outbound listener its traffic is
    // redirected to.
    const concurrency = opts.podConcurrency ?? POD_CONCURRENCY;
    const infra = await step("infra", () =>
      eachPod(
        plan.pods,
        signal,
        async (pod, _i, stop) => {
          const c = await startInfra(docker, plan, pod, labels(pod, "infra"), stop);
          await waitFor(async () => (await logTail(docker, c.id, 50)).some((l) => l.includes(READY_MARKER)), {
            what: `${pod.id}: interception rules installed (infra container ${pod.containers.infra})`,
            timeoutMs,
            signal: stop,
            logTail: () => logTail(docker, c.id),
          });
          return c;
        },
        concurrency,
      ),
    );
    const sidecars = await step("sidecars", () =>
      eachPod(
        plan.pods,
        signal,
        async (pod, i, stop) => {
          // Its own directory from the run directory, or (exec) a private tmpfs: never the app's.
          const dir = runDir ? { Binds: [`${await runDir.podDir(i)}:${SIDECAR_DIR}`] } : { Tmpfs: { [SIDECAR_DIR]: `uid=${SIDECAR_UID},gid=${SIDECAR_UID},mode=0700,size=16m` } };
          stop.throwIfAborted();
          const sidecar = await docker.createContainer({
            name: pod.containers.sidecar,
            Image: plan.image,
            Cmd: pod.sidecar.command,
            User: SIDECAR_USER,
            // With a host directory, the access log goes to a file there (read by tailFiles below): no line passes through Docker's logging.
            ...(runDir ? { Env: [`${pod.sidecar.accessLogEnv}=${SIDECAR_ACCESS_LOG}`] } : {}),
            Labels: labels(pod, "sidecar"),
            HostConfig: { NetworkMode: `container:${infra[i]!.id}`, ...dir, ...confinement("sidecar") },
          });
          stop.throwIfAborted();
          await sidecar.putArchive(tarFiles(pod.sidecar.files), { path: "/" });
          stop.throwIfAborted();
          await sidecar.start();
          if (!runDir) {
            const follow = await followLogs(streams, sidecar.id, (line) => opts.onSidecarLine(pod, line));
            logStops.push(() => (follow.stop(), follow.done));
          }
          const socket = runDir ? runDir.adminSocket(i) : null;
          admins[i] = { socket, admin: socket ? unixAdminChannel(socket) : execAdminChannel(docker, sidecar.id) };
          await waitFor(async () => (await admins[i]!.admin.send("show info")).includes("Name: HAProxy"), {
            what: `${pod.id}: sidecar runtime API answering on ${socket ?? `${SIDECAR_DIR} (through docker exec)`}`,
            timeoutMs,
            signal: stop,
            logTail: () => logTail(docker, sidecar.id),
          });
          return sidecar;
        },
        concurrency,
      ),
    );
    if (runDir) {
      const files = await Promise.all(plan.pods.map(async (pod, i) => ({ key: pod, path: join(await runDir.podDir(i), basename(SIDECAR_ACCESS_LOG)) })));
      const tail = tailFiles(files, (pod, lines) => {
        for (const line of lines) opts.onSidecarLine(pod, line);
      });
      logStops.push(() => tail.stop());
    }

    const apps = await step("apps", () => startApps(docker, plan, infra, { labels, timeoutMs, signal }));

    const pods: StartedPod[] = plan.pods.map((pod, i) => ({
      plan: pod,
      ids: { infra: infra[i]!.id, app: apps[i]!.id, sidecar: sidecars[i]!.id },
      admin: admins[i]!.admin,
      adminSocket: admins[i]!.socket,
    }));
    const ingressIndex = plan.pods.findIndex((p) => p.publishInbound);
    const ingressUrl = `http://127.0.0.1:${publishedPort(await infra[ingressIndex]!.inspect(), POD_PORTS.inbound)}`;

    // Any answer below 500 shows the mesh carries traffic end to end; a user's app may answer 404 on a probe path.
    const probeUrl = `${ingressUrl}${plan.meshProbe.path}`;
    await step("mesh", () =>
      waitFor((probe) => fetch(probeUrl, { signal: probe }).then((r) => r.status < 500), {
        what: `a request through the whole mesh: GET ${probeUrl} answering below 500`,
        timeoutMs,
        intervalMs: 100,
        signal,
        logTail: async () => (await Promise.all(pods.map((p) => logTail(docker, p.ids.sidecar, 3)))).flat(),
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
 * Every pod's app container, each started once every replica of the services it depends on is
 * ready (compose depends_on), then waited for itself. Independent apps start in parallel. An app
 * that exits while starting ends the wait at once, with its last log lines; any failure stops the
 * others (see eachPod).
 */
async function startInfra(docker: Docker, plan: ExecutionPlan, pod: PodPlan, labels: Record<string, string>, stop: AbortSignal): Promise<Docker.Container> {
  const ports: Record<string, [{ HostIp: string; HostPort: string }]> = {};
  if (pod.publishInbound) ports[`${POD_PORTS.inbound}/tcp`] = [{ HostIp: "127.0.0.1", HostPort: "" }];
  const c = await docker.createContainer({
    name: pod.containers.infra,
    Hostname: pod.id,
    Image: plan.image,
    Cmd: [POD_INIT],
    Env: [`MQ_APP_PORT=${pod.app.port}`, `MQ_OUTBOUND_PORT=${POD_PORTS.outbound}`, `MQ_INBOUND_PORT=${POD_PORTS.inbound}`, `MQ_PROXY_UID=${SIDECAR_UID}`],
    Labels: labels,
    ExposedPorts: Object.fromEntries(Object.keys(ports).map((p) => [p, {}])),
    HostConfig: { NetworkMode: plan.network, PortBindings: ports, ...confinement("infra") },
    NetworkingConfig: { EndpointsConfig: { [plan.network]: { Aliases: pod.aliases } } },
  });
  stop.throwIfAborted();
  await c.start();
  return c;
}

async function startApps(
  docker: Docker,
  plan: ExecutionPlan,
  infra: Docker.Container[],
  opts: { labels: (pod: PodPlan, role: string) => Record<string, string>; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<Docker.Container[]> {
  // One gate per service, opened when every replica's app is ready; dependents wait on it.
  const gates = new Map<string, { promise: Promise<void>; open: () => void; fail: (e: unknown) => void; left: number }>();
  for (const pod of plan.pods) {
    const gate = gates.get(pod.service);
    if (gate) {
      gate.left++;
      continue;
    }
    let open!: () => void;
    let fail!: (e: unknown) => void;
    const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
    promise.catch(() => {}); // observed through eachPod
    gates.set(pod.service, { promise, open, fail, left: 1 });
  }
  return eachPod(plan.pods, opts.signal, async (pod, i, stop) => {
    const gate = gates.get(pod.service)!;
    try {
      await untilAborted(Promise.all(pod.app.startAfter.map((service) => gates.get(service)?.promise)), stop);
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
        Labels: opts.labels(pod, "app"),
        HostConfig: { NetworkMode: `container:${infra[i]!.id}`, ...confinement("app", app) },
      });
      stop.throwIfAborted();
      await c.start();
      await waitForApp(docker, { plan: pod, ids: { infra: infra[i]!.id, app: c.id } }, { timeoutMs: opts.timeoutMs, signal: stop });
      if (app.kind === "user") await refuseSidecarUid(pod, c);
      if (--gate.left === 0) gate.open();
      return c;
    } catch (err) {
      gate.fail(err);
      throw err;
    }
  });
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
