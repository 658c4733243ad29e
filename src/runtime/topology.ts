import type Docker from "dockerode";
import type { AdminChannel } from "../dataplane/types.js";
import { POD_PORTS, type ExecutionPlan, type PodPlan } from "../plan/types.js";
import { tcpAdminChannel } from "./admin-channel.js";
import { ROLE_LABEL } from "./labels.js";
import { demuxBuffer, followLogs, logTail } from "./log-stream.js";
import { tarFiles } from "./tar.js";
import { waitFor } from "./wait-for.js";

export const POD_INIT = "/usr/local/lib/meshquake/pod/pod-init.sh";
const PROBE = "/usr/local/lib/meshquake/pod/probe.js";
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
 * namespace and installs the interception rules), then apps, then sidecars, then waits until
 * each hop answers and a request crosses the whole mesh. Tearing down is the caller's job
 * (cleanLeftovers by run id), registered before this starts, so a half-built topology goes too.
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

  const apps = await step("apps", () =>
    Promise.all(
      plan.pods.map(async (pod, i) => {
        const c = await docker.createContainer({
          name: pod.containers.app,
          Image: plan.image,
          Cmd: pod.app.command,
          Env: Object.entries(pod.app.env).map(([k, v]) => `${k}=${v}`),
          Labels: labels(pod, "app"),
          HostConfig: { NetworkMode: `container:${infra[i]!.id}` },
        });
        await c.start();
        return c;
      }),
    ),
  );

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
  const pods: StartedPod[] = plan.pods.map((pod, i) => {
    const adminPort = publishedPort(inspected[i]!, POD_PORTS.admin);
    return {
      plan: pod,
      ids: { infra: infra[i]!.id, app: apps[i]!.id, sidecar: sidecars[i]!.id },
      adminPort,
      admin: tcpAdminChannel(adminPort),
    };
  });
  const ingressIndex = plan.pods.findIndex((p) => p.publishInbound);
  const ingressUrl = `http://127.0.0.1:${publishedPort(inspected[ingressIndex]!, POD_PORTS.inbound)}`;

  await step("readiness", () =>
    Promise.all(
      pods.map(async (pod) => {
        await waitFor(async () => (await pod.admin.send("show info")).includes("Name: HAProxy"), {
          what: `${pod.plan.id}: sidecar runtime API answering on 127.0.0.1:${pod.adminPort}`,
          timeoutMs,
          signal: opts.signal,
          logTail: () => logTail(docker, pod.ids.sidecar),
        });
        await waitFor(() => execProbe(docker, pod.ids.infra, `http://127.0.0.1:${pod.plan.app.port}${pod.plan.app.health}`), {
          what: `${pod.plan.id}: app answering GET ${pod.plan.app.health} on port ${pod.plan.app.port}`,
          timeoutMs,
          intervalMs: 100,
          signal: opts.signal,
          logTail: () => logTail(docker, pod.ids.app),
        });
      }),
    ),
  );
  await step("mesh", () =>
    waitFor(() => fetch(`${ingressUrl}/`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status === 200), {
      what: `a request through the whole mesh: GET ${ingressUrl}/ answering 200`,
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

/** Runs the probe inside the pod's namespace (the infra container); throws its complaint on failure. */
async function execProbe(docker: Docker, containerId: string, url: string): Promise<boolean> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: ["node", PROBE, url], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  await new Promise((r) => stream.on("end", r));
  const { ExitCode } = await exec.inspect();
  if (ExitCode === 0) return true;
  throw new Error(demuxBuffer(Buffer.concat(chunks)).trim() || `probe exited ${ExitCode}`);
}
