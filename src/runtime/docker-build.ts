import { Readable } from "node:stream";
import type Docker from "dockerode";
import { streamingClient } from "./docker.js";

/** A build that prints nothing for this long is stuck: abort it. */
export const BUILD_IDLE_TIMEOUT_MS = 10 * 60_000;

export interface BuildRequest {
  /** The build context as a tar archive. */
  context: Buffer;
  tag: string;
  dockerfile: string;
  buildargs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  /** Stops the build (the engine cancels it and removes its intermediate containers). */
  signal?: AbortSignal | undefined;
}

export type BuildOutcome = { ok: true; output: string[] } | { ok: false; why: string; output: string[] };

/**
 * Runs one `docker build` through the engine API and follows its progress to the end. Never
 * throws for a failed build: the caller words the error for its own context, with the reason
 * and the last lines of the build's output (bounded, so a chatty build cannot grow memory).
 * A build that is stopped (a signal, the idle limit) leaves no build container behind: the
 * engine would remove them only once their step gave up, so they are removed here.
 */
export async function dockerBuild(docker: Docker, req: BuildRequest): Promise<BuildOutcome> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), BUILD_IDLE_TIMEOUT_MS);
  const output: string[] = [];
  /** The containers of the build's RUN steps, as its output names them. */
  const steps = new Set<string>();
  try {
    // A build can be quiet for minutes (apt-get): the streaming client, with the idle limit above instead.
    const stream = await streamingClient(docker).buildImage(Readable.from([req.context]), {
      t: req.tag,
      dockerfile: req.dockerfile,
      buildargs: req.buildargs,
      ...(req.target ? { target: req.target } : {}),
      labels: req.labels,
      nocache: req.noCache,
      rm: true,
      forcerm: true,
      abortSignal: req.signal ? AbortSignal.any([abort.signal, req.signal]) : abort.signal,
    });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (event: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
          clearTimeout(timer);
          timer = setTimeout(() => abort.abort(), BUILD_IDLE_TIMEOUT_MS);
          if (event.stream) output.push(...event.stream.split("\n").filter((l) => l.trim() !== ""));
          for (const m of event.stream?.matchAll(/Running in ([0-9a-f]{12,64})/g) ?? []) steps.add(m[1]!);
          if (output.length > 400) output.splice(0, output.length - 100);
          const error = event.errorDetail?.message ?? event.error;
          if (error) reject(new Error(error));
        },
      );
    });
    return { ok: true, output };
  } catch (err) {
    const why = req.signal?.aborted
      ? "stopped (interrupted)"
      : abort.signal.aborted
      ? `no build output for ${BUILD_IDLE_TIMEOUT_MS / 60_000} min`
      : err instanceof Error
        ? err.message
        : String(err);
    await Promise.all([...steps].map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
    return { ok: false, why: why.trim(), output };
  } finally {
    clearTimeout(timer);
  }
}
