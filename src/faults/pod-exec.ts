import { PassThrough } from "node:stream";
import type Docker from "dockerode";

/** Where the image bakes images/pod/ (see images/Dockerfile). */
export const POD_SUPPORT_DIR = "/usr/local/lib/meshquake/pod";
export const FAULT_SCRIPT = `${POD_SUPPORT_DIR}/fault.sh`;

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
 * Runs a command in a container (as its default user) and waits for it: exit code, stdout and
 * stderr. Never throws for a non-zero exit; `execOk` does.
 */
export async function execIn(docker: Docker, containerId: string, command: string[], timeoutMs = 15_000): Promise<ExecResult> {
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
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`\`${command.join(" ")}\` in container ${containerId.slice(0, 12)} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
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
