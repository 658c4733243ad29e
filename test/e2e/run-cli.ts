// Runs the real CLI as a user would, from the project root with CI=true (plain output).
import { spawn, type ChildProcess } from "node:child_process";
import { PROJECT_ROOT } from "../integration/docker-env.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Replaces or removes (undefined) variables of the inherited environment. */
  env?: Record<string, string | undefined>;
  /** Sees stderr as it grows; may act on progress lines (e.g. send a signal). */
  onStderr?: (text: string, child: ChildProcess) => void;
}

export function cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/meshquake.js", ...args], { cwd: PROJECT_ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
