import { PassThrough } from "node:stream";
import type Docker from "dockerode";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A command inside a container failed; carries what it said. */
export class PodExecError extends Error {
  override name = "PodExecError";
  constructor(
    readonly where: string,
    readonly command: string[],
    readonly result: ExecResult,
  ) {
    const said = (result.stderr.trim() || result.stdout.trim() || "(no output)").split("\n").slice(-5).join(" | ");
    super(`${where}: \`${command.join(" ")}\` exited ${result.exitCode}: ${said}`);
  }
}

/**
 * Runs a command in a container (as its default user) and waits for it, at most `timeoutMs`:
 * exit code, stdout and stderr. Never throws for a non-zero exit; `execOk` does. A command that
 * outlives its limit keeps running in the container (the engine cannot stop an exec), but the
 * caller is free.
 */
export async function execIn(docker: Docker, containerId: string, command: string[], timeoutMs = 15_000, signal?: AbortSignal): Promise<ExecResult> {
  signal?.throwIfAborted();
  const exec = await docker.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const out = new PassThrough();
  const err = new PassThrough();
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  out.on("data", (c: Buffer) => stdout.push(c));
  err.on("data", (c: Buffer) => stderr.push(c));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    const giveUp = (why: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      stream.destroy();
      reject(why);
    };
    const timer = setTimeout(
      () => giveUp(new Error(`\`${command.join(" ")}\` in container ${containerId.slice(0, 12)} did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => giveUp(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", (e) => giveUp(e));
  });
  const { ExitCode } = await exec.inspect();
  return {
    exitCode: ExitCode ?? -1,
    stdout: Buffer.concat(stdout).toString("utf8"),
    stderr: Buffer.concat(stderr).toString("utf8"),
  };
}

/** Like execIn, but a non-zero exit throws a PodExecError naming `where` and what the command said. */
export async function execOk(docker: Docker, containerId: string, where: string, command: string[], timeoutMs?: number): Promise<string> {
  const result = await execIn(docker, containerId, command, timeoutMs);
  if (result.exitCode !== 0) throw new PodExecError(where, command, result);
  return result.stdout;
}
