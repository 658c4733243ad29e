// Is a pod's app ready? The fixture and apps with an HTTP health path: GET answers 2xx. Apps
// without one: their port accepts a TCP connection. Apps with a health command (a compose
// healthcheck): the command exits 0 inside the app container, where the user's tools are.
// HTTP and TCP probes run in the infra container (the mesh image has node; the user's may not),
// which shares the app's network namespace, so 127.0.0.1:<port> is the app itself.
import type Docker from "dockerode";
import type { PodPlan } from "../plan/types.js";
import { execIn } from "./exec.js";
import { logTail } from "./log-stream.js";

export const PROBE_SCRIPT = "/usr/local/lib/meshquake/pod/probe.js";

/** A TCP connect to 127.0.0.1:<port>, from inside the pod: exit 0 when it connects. */
const TCP_PROBE = [
  "const port = Number(process.argv[1]);",
  "const s = require('net').connect({ host: '127.0.0.1', port, timeout: 2000 });",
  "s.on('connect', () => { s.destroy(); process.exit(0); });",
  "s.on('timeout', () => { console.error(`connect 127.0.0.1:${port} timed out after 2000 ms`); process.exit(1); });",
  "s.on('error', (e) => { console.error(`connect 127.0.0.1:${port}: ${e.message}`); process.exit(1); });",
].join(" ");

export interface PodContainers {
  plan: PodPlan;
  ids: { infra: string; app: string };
}

export class AppExitedError extends Error {
  override name = "AppExitedError";
}

/** In words, for timeouts and logs: "GET /healthz on port 8080", "a TCP connect to port 7070". */
export function describeReadiness(app: PodPlan["app"]): string {
  switch (app.readiness.kind) {
    case "http":
      return `app answering GET ${app.readiness.path} on port ${app.port}`;
    case "tcp":
      return `app accepting connections on port ${app.port}`;
    case "exec":
      return `app health command ${JSON.stringify(app.readiness.command)} exiting 0`;
  }
}

/** One probe's exec may take this long (the TCP probe gives up after 2 s by itself). */
export const PROBE_EXEC_TIMEOUT_MS = 5_000;

/**
 * One probe: true when ready; throws why not (the probe's own complaint). Throws AppExitedError
 * when the app container is no longer running, so a caller can stop waiting at once. The probe's
 * exec has its own deadline; a health command that hangs fails the probe instead of the run.
 */
export async function probeApp(docker: Docker, pod: PodContainers, signal?: AbortSignal): Promise<boolean> {
  const { app } = pod.plan;
  const run = (containerId: string, cmd: string[]) => execIn(docker, containerId, cmd, PROBE_EXEC_TIMEOUT_MS, signal);
  const r =
    app.readiness.kind === "exec"
      ? await run(pod.ids.app, app.readiness.command).catch(async (err: unknown) => {
          // Exec into a stopped container fails with 409; say why the app stopped instead.
          await throwIfExited(docker, pod);
          throw err;
        })
      : await run(
          pod.ids.infra,
          app.readiness.kind === "http" ? ["node", PROBE_SCRIPT, `http://127.0.0.1:${app.port}${app.readiness.path}`] : ["node", "-e", TCP_PROBE, String(app.port)],
        );
  if (r.exitCode === 0) return true;
  await throwIfExited(docker, pod);
  const output = `${r.stdout}${r.stderr}`;
  throw new Error(output.trim().split("\n").slice(-3).join(" | ") || `probe exited ${r.exitCode}`);
}

async function throwIfExited(docker: Docker, pod: PodContainers): Promise<void> {
  const state = (await docker.getContainer(pod.ids.app).inspect()).State;
  if (state.Running || state.Restarting) return;
  const tail = await logTail(docker, pod.ids.app, 10).catch(() => []);
  throw new AppExitedError(
    `${pod.plan.id}: the app (${pod.plan.app.image}) exited with code ${state.ExitCode}${state.Error ? ` (${state.Error})` : ""} before it was ready` +
      (tail.length ? `\n  last log lines:\n${tail.map((l) => `    | ${l}`).join("\n")}` : ""),
  );
}
