import type Docker from "dockerode";
import type { AdminChannel } from "../dataplane/types.js";
import { POD_PORTS, type ExecutionPlan, type PodPlan } from "../plan/types.js";
import { tcpAdminChannel } from "./admin-channel.js";
import { ROLE_LABEL } from "./labels.js";
import { AppExitedError, describeReadiness, probeApp, type PodContainers } from "./app-readiness.js";
import { followLogs, logTail } from "./log-stream.js";
import { tarFiles } from "./tar.js";
import { waitFor } from "./wait-for.js";

export const POD_INIT = "/usr/local/lib/meshquake/pod/pod-init.sh";
const READY_MARKER = "meshquake: pod network ready";

export interface StartedPod {
  plan: PodPlan;
  ids: { infra: string; app: string; sidecar: string };
  admin: AdminChannel;
  adminPort: number;
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
}

/**
 * Builds the plan's topology: network, then every pod's infra container (it owns the network
 * namespace and installs the interception rules), then sidecars, then apps (the fixture or the
 * user's image, in depends_on order), then waits until a request crosses the whole mesh. Tearing
 * down is the caller's job (cleanLeftovers by run id), registered before this starts, so a
 * half-built topology goes too.
 */
export async function startTopology(docker: Docker, plan: ExecutionPlan, opts: TopologyOptions): Promise<StartedTopology> {
  const timeoutMs = opts.readinessTimeoutMs ?? 30_000;
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await fn();
    opts.onStep?.(name, Date.now() - t0);
    return r;
  };
  const labels = (pod: PodPlan, role: string) => ({ ...plan.labels, [ROLE_LABEL]: role, "meshquake.pod": pod.id });

  await step("network", () =>
    docker.createNetwork({ Name: plan.network, Labels: plan.labels, CheckDuplicate: true, Driver: "bridge" }),
  );

  const infra = await step("infra", () =>
    Promise.all(
      plan.pods.map(async (pod) => {
        const ports: Record<string, [{ HostIp: string; HostPort: string }]> = {
          [`${POD_PORTS.admin}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: "" }],
        };
        if (pod.publishInbound) ports[`${POD_PORTS.inbound}/tcp`] = [{ HostIp: "127.0.0.1", HostPort: "" }];
        const c = await docker.createContainer({
          name: pod.containers.infra,
          Hostname: pod.id,
          Image: plan.image,
          Cmd: [POD_INIT],
          Env: [`MQ_APP_PORT=${pod.app.port}`, `MQ_OUTBOUND_PORT=${POD_PORTS.outbound}`, `MQ_INBOUND_PORT=${POD_PORTS.inbound}`],
          Labels: labels(pod, "infra"),
          ExposedPorts: Object.fromEntries(Object.keys(ports).map((p) => [p, {}])),
          HostConfig: { NetworkMode: plan.network, CapAdd: ["NET_ADMIN"], PortBindings: ports },
          NetworkingConfig: { EndpointsConfig: { [plan.network]: { Aliases: pod.aliases } } },
        });
        await c.start();
        return c;
      }),
    ),
  );
  await step("interception", () =>
    Promise.all(
      infra.map((c, i) =>
        waitFor(async () => (await logTail(docker, c.id, 50)).some((l) => l.includes(READY_MARKER)), {
          what: `${plan.pods[i]!.id}: interception rules installed (infra container ${plan.pods[i]!.containers.infra})`,
          timeoutMs,
          signal: opts.signal,
          logTail: () => logTail(docker, c.id),
        }),
      ),
    ),
  );

  // Sidecars before apps (Istio's holdApplicationUntilProxyStarts): an app that calls a
  // dependency while starting must find the outbound listener its traffic is redirected to.
  const logStops: Array<{ stop(): void; done: Promise<void> }> = [];
  const sidecars = await step("sidecars", () =>
    Promise.all(
      plan.pods.map(async (pod, i) => {
        const c = await docker.createContainer({
          name: pod.containers.sidecar,
          Image: plan.image,
          Cmd: pod.sidecar.command,
          User: "haproxy",
          Labels: labels(pod, "sidecar"),
          HostConfig: { NetworkMode: `container:${infra[i]!.id}` },
        });
        await c.putArchive(tarFiles(pod.sidecar.files), { path: "/" });
        await c.start();
        logStops.push(await followLogs(docker, c.id, (line) => opts.onSidecarLine(pod, line)));
        return c;
      }),
    ),
  );

  const inspected = await Promise.all(infra.map((c) => c.inspect()));
  const admins = plan.pods.map((_, i) => {
    const adminPort = publishedPort(inspected[i]!, POD_PORTS.admin);
    return { adminPort, admin: tcpAdminChannel(adminPort) };
  });
  await step("proxies", () =>
    Promise.all(
      plan.pods.map((pod, i) =>
        waitFor(async () => (await admins[i]!.admin.send("show info")).includes("Name: HAProxy"), {
          what: `${pod.id}: sidecar runtime API answering on 127.0.0.1:${admins[i]!.adminPort}`,
          timeoutMs,
          signal: opts.signal,
          logTail: () => logTail(docker, sidecars[i]!.id),
        }),
      ),
    ),
  );

  const apps = await step("apps", () => startApps(docker, plan, infra, { labels, timeoutMs, signal: opts.signal }));

  const pods: StartedPod[] = plan.pods.map((pod, i) => ({
    plan: pod,
    ids: { infra: infra[i]!.id, app: apps[i]!.id, sidecar: sidecars[i]!.id },
    adminPort: admins[i]!.adminPort,
    admin: admins[i]!.admin,
  }));
  const ingressIndex = plan.pods.findIndex((p) => p.publishInbound);
  const ingressUrl = `http://127.0.0.1:${publishedPort(inspected[ingressIndex]!, POD_PORTS.inbound)}`;

  // Any answer below 500 shows the mesh carries traffic end to end; a user's app may answer 404 on a probe path.
  const probeUrl = `${ingressUrl}${plan.meshProbe.path}`;
  await step("mesh", () =>
    waitFor(() => fetch(probeUrl, { signal: AbortSignal.timeout(5000) }).then((r) => r.status < 500), {
      what: `a request through the whole mesh: GET ${probeUrl} answering below 500`,
      timeoutMs,
      intervalMs: 100,
      signal: opts.signal,
      logTail: async () => (await Promise.all(pods.map((p) => logTail(docker, p.ids.sidecar, 3)))).flat(),
    }),
  );

  return {
    pods,
    ingressUrl,
    async stopLogs() {
      // Give the last log lines a moment to arrive before cutting the streams.
      await new Promise((r) => setTimeout(r, 300));
      for (const l of logStops) l.stop();
      await Promise.all(logStops.map((l) => l.done));
    },
  };
}

function publishedPort(info: Docker.ContainerInspectInfo, port: number): number {
  const binding = info.NetworkSettings.Ports?.[`${port}/tcp`]?.[0];
  if (!binding) throw new Error(`container ${info.Name} has no published port for ${port}/tcp`);
  return Number(binding.HostPort);
}

/**
 * Every pod's app container, each started once every replica of the services it depends on is
 * ready (compose depends_on), then waited for itself. Independent apps start in parallel. An app
 * that exits while starting ends the wait at once, with its last log lines.
 */
async function startApps(
  docker: Docker,
  plan: ExecutionPlan,
  infra: Docker.Container[],
  opts: { labels: (pod: PodPlan, role: string) => Record<string, string>; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<Docker.Container[]> {
  // One gate per service, opened when every replica's app is ready; dependents wait on it.
  const gates = new Map<string, { promise: Promise<void>; open: () => void; fail: (e: unknown) => void }>();
  for (const pod of plan.pods) {
    if (gates.has(pod.service)) continue;
    let open!: () => void;
    let fail!: (e: unknown) => void;
    const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
    promise.catch(() => {}); // observed through allSettled below
    gates.set(pod.service, { promise, open, fail });
  }
  const started = plan.pods.map(async (pod, i) => {
    await Promise.all(pod.app.startAfter.map((service) => gates.get(service)?.promise));
    const app = pod.app;
    const c = await docker.createContainer({
      name: pod.containers.app,
      Image: app.image,
      Env: Object.entries(app.env).map(([k, v]) => `${k}=${v}`),
      ...(app.command ? { Cmd: app.command } : {}),
      ...(app.entrypoint ? { Entrypoint: app.entrypoint } : {}),
      ...(app.user ? { User: app.user } : {}),
      ...(app.workingDir ? { WorkingDir: app.workingDir } : {}),
      Labels: opts.labels(pod, "app"),
      HostConfig: { NetworkMode: `container:${infra[i]!.id}` },
    });
    await c.start();
    await waitForApp(docker, { plan: pod, ids: { infra: infra[i]!.id, app: c.id } }, opts);
    return c;
  });
  for (const [service, gate] of gates) {
    const replicas = started.filter((_, i) => plan.pods[i]!.service === service);
    Promise.all(replicas).then(() => gate.open(), gate.fail);
  }
  // Wait for every app, then report the first failure: none is left starting unobserved.
  const results = await Promise.allSettled(started);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<Docker.Container>).value);
}

async function waitForApp(docker: Docker, pod: PodContainers, opts: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<void> {
  // An app that exited will never be ready: stop waiting at once, with its exit code and logs.
  const exited = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, exited.signal]) : exited.signal;
  try {
    await waitFor(
      async () => {
        try {
          return await probeApp(docker, pod);
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
