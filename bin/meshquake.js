#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step between a checkout and `npx meshquake`.
import { register } from "tsx/esm/api";

// A signal that arrives while no command listens (loading, validating: nothing exists yet to
// tear down) ends the process at once, with the exit code an interrupted run has.
const unheard = (signal) => {
  if (process.listenerCount(signal) === 1) process.exit(130);
};
process.on("SIGINT", unheard);
process.on("SIGTERM", unheard);

register();
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything main started has ended by now; should a stray handle still hold the event loop, the
// command is done all the same: exit once output has had time to drain.
setTimeout(() => process.exit(code), 2000).unref();
