// Is a pod's app ready? The fixture and apps with an HTTP health path: GET answers 2xx. Apps
// without one: their port accepts a TCP connection. Apps with a health command (a compose
// healthcheck): the command exits 0 inside the app container, where the user's tools are.
// HTTP and TCP probes run in the proxy container (the mesh image has bash; the user's may not),
// which shares the app's network namespace, so 127.0.0.1:<port> is the app itself. They are bash
// and its /dev/tcp, a few milliseconds each: a Node per probe took ~0.3 s of CPU, and six apps
// probed every 100 ms kept both cores of a small machine busy while the apps started.
import type Docker from "dockerode";
import type { PodPlan } from "../plan/types.js";
import { execIn } from "./exec.js";
import { logTail } from "./log-stream.js";

/** A TCP connect to 127.0.0.1:$1, from inside the pod: exit 0 when it connects. */
const TCP_PROBE = '{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || { echo "connect 127.0.0.1:$1: refused or unreachable" >&2; exit 1; }';

/** GET $2 from 127.0.0.1:$1 (HTTP/1.0, so the app closes), exit 0 on a 2xx status line within 2 s. */
const HTTP_PROBE = [
  TCP_PROBE,
  'printf "GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\nUser-Agent: meshquake-probe\\r\\n\\r\\n" "$2" >&3',
  'IFS= read -r -t 2 line <&3 || { echo "GET http://127.0.0.1:$1$2: no answer within 2000 ms" >&2; exit 1; }',
  'line=${line%$\'\\r\'}',
  'case "$line" in "HTTP/1."?" 2"[0-9][0-9]" "*|"HTTP/1."?" 2"[0-9][0-9]) exit 0;; esac',
  'echo "GET http://127.0.0.1:$1$2 answered ${line#HTTP/1.? }" >&2; exit 1',
].join("\n");

/**
 * Runs a probe (a script over $2...) again every 20 ms until it passes or $1 ms have gone, then
 * says its last complaint: one exec waits out a starting app, instead of one exec per try (each
 * costs the engine tens of milliseconds of CPU, which six starting apps probed every 100 ms took
 * from the apps themselves).
 */
function patient(probe: string): string {
  return [
    `probe() (
${probe}
)`,
    "tries=$(( $1 / 20 )); shift; i=0",
    'while :; do err=$(probe "$@" 2>&1 >/dev/null) && exit 0; i=$((i + 1)); [ "$i" -ge "$tries" ] && break; sleep 0.02; done',
    'printf "%s\n" "$err" >&2; exit 1',
  ].join("\n");
}

/** How long one probe exec keeps trying before it reports (and the caller checks the app is still there). */
export const PROBE_PATIENCE_MS = 1_000;

export interface PodContainers {
  plan: PodPlan;
  ids: { proxy: string; app: string };
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
          pod.ids.proxy,
          app.readiness.kind === "http"
            ? ["bash", "-c", patient(HTTP_PROBE), "probe", String(PROBE_PATIENCE_MS), String(app.port), app.readiness.path]
            : ["bash", "-c", patient(TCP_PROBE), "probe", String(PROBE_PATIENCE_MS), String(app.port)],
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
