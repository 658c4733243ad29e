// What the CLI reads and writes besides files: the only process state its commands touch, passed
// in so tests run it in-process.

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  /** Process signals the run reacts to; tests pass their own emitter. */
  signals: Pick<NodeJS.Process, "on" | "off">;
}

export const processIo = (): CliIo => ({
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
  signals: process,
});

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
