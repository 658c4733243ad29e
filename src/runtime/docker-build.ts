import { Readable } from "node:stream";
import type Docker from "dockerode";

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
}

export type BuildOutcome = { ok: true; output: string[] } | { ok: false; why: string; output: string[] };

/**
 * Runs one `docker build` through the engine API and follows its progress to the end. Never
 * throws for a failed build: the caller words the error for its own context, with the reason
 * and the last lines of the build's output (bounded, so a chatty build cannot grow memory).
 */
export async function dockerBuild(docker: Docker, req: BuildRequest): Promise<BuildOutcome> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), BUILD_IDLE_TIMEOUT_MS);
  const output: string[] = [];
  try {
    const stream = await docker.buildImage(Readable.from([req.context]), {
      t: req.tag,
      dockerfile: req.dockerfile,
      buildargs: req.buildargs,
      ...(req.target ? { target: req.target } : {}),
      labels: req.labels,
      nocache: req.noCache,
      rm: true,
      forcerm: true,
      abortSignal: abort.signal,
    });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (event: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
          clearTimeout(timer);
          timer = setTimeout(() => abort.abort(), BUILD_IDLE_TIMEOUT_MS);
          if (event.stream) output.push(...event.stream.split("\n").filter((l) => l.trim() !== ""));
          if (output.length > 400) output.splice(0, output.length - 100);
          const error = event.errorDetail?.message ?? event.error;
          if (error) reject(new Error(error));
        },
      );
    });
    return { ok: true, output };
  } catch (err) {
    const why = abort.signal.aborted
      ? `no build output for ${BUILD_IDLE_TIMEOUT_MS / 60_000} min`
      : err instanceof Error
        ? err.message
        : String(err);
    return { ok: false, why: why.trim(), output };
  } finally {
    clearTimeout(timer);
  }
}
