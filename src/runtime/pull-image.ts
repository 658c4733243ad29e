// Pulling a user's `image:` as Docker Compose does: only when asked by the pull policy, with the
// engine's progress said every few seconds, and the registry's own words when it fails (offline:
// the engine cannot resolve the registry's name).
import type Docker from "dockerode";

/** As `docker compose --pull`: missing (default) pulls what is not here, never pulls nothing, always pulls every time. */
export const PULL_POLICIES = ["missing", "never", "always"] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

interface ProgressEvent {
  id?: string;
  status?: string;
  error?: string;
}

/** Pulls `ref`; throws with the engine's reason. */
export async function pullImage(docker: Docker, ref: string, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const t0 = performance.now();
  log(`pulling ${ref}`);
  const layers = new Map<string, string>();
  let said = t0;
  try {
    const stream = (await docker.pull(ref, signal ? { abortSignal: signal } : {})) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (e: ProgressEvent) => {
          if (e.error) return;
          if (e.id && e.status) layers.set(e.id, e.status);
          const now = performance.now();
          if (now - said < 3000 || layers.size === 0) return;
          said = now;
          const done = [...layers.values()].filter((s) => /complete|already exists/i.test(s)).length;
          log(`pulling ${ref}: ${done} of ${layers.size} layers done`);
        },
      );
    });
  } catch (err) {
    throw new Error(engineReason(err));
  }
  log(`pulled ${ref} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** The engine's message (dockerode wraps it with the HTTP status). */
function engineReason(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === "string") return json.message;
  return err instanceof Error ? err.message.replace(/^\(HTTP code \d+\)[^-]*- /, "") : String(err);
}
