// SIGINT and SIGTERM while a command works on Docker (a run, an image build).
import type { CliIo } from "./io.js";

export interface Interruptions {
  /** Aborted by the first signal: stop gracefully. */
  signal: AbortSignal;
  /** Aborted by the second: hurry the teardown. */
  hurry: AbortSignal;
  dispose(): void;
}

/**
 * The first signal stops the command gracefully (load stopped, faults reverted, everything torn
 * down); the second hurries the teardown (the containers are removed at once, which takes the
 * faults with them); more only say what is going on. The process is never killed by them, so it
 * never exits leaving containers: only SIGKILL can.
 */
export function interruptions(io: CliIo): Interruptions {
  const graceful = new AbortController();
  const hurry = new AbortController();
  let received = 0;
  const on = (sig: string) => () => {
    received++;
    if (received === 1) {
      io.stderr(`\nmeshquake: ${sig} received, stopping load, reverting faults and tearing down (again to hurry)...\n`);
      graceful.abort(new Error(`interrupted by ${sig}`));
    } else if (received === 2) {
      io.stderr(`meshquake: ${sig} again: removing the containers now, without reverting faults one by one...\n`);
      hurry.abort(new Error(`hurried by ${sig}`));
    } else {
      io.stderr("meshquake: still removing the containers; SIGKILL would leave them behind (`meshquake clean` removes them later)\n");
    }
  };
  const onInt = on("SIGINT");
  const onTerm = on("SIGTERM");
  io.signals.on("SIGINT", onInt);
  io.signals.on("SIGTERM", onTerm);
  return {
    signal: graceful.signal,
    hurry: hurry.signal,
    dispose() {
      io.signals.off("SIGINT", onInt);
      io.signals.off("SIGTERM", onTerm);
    },
  };
}
