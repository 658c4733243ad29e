#!/usr/bin/env node
// The `meshquake` command. An installed package runs its build (dist/). A source checkout runs the
// build when it is up to date, and otherwise the TypeScript sources through tsx, so a checkout
// works without a build step and an edit takes effect at once (`npm run build` makes it fast again).
import { fileURLToPath } from "node:url";
import { buildState } from "./build-state.js";

// A signal that arrives while no command listens (loading, validating: nothing exists yet to
// tear down) ends the process at once, with the exit code an interrupted run has.
const unheard = (signal) => {
  if (process.listenerCount(signal) === 1) process.exit(130);
};
process.on("SIGINT", unheard);
process.on("SIGTERM", unheard);

const root = fileURLToPath(new URL("..", import.meta.url));
const { main } = buildState(root) === "current" ? await import("../dist/cli/main.js") : await fromSources();
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything main started has ended by now; should a stray handle still hold the event loop, the
// command is done all the same: exit once output has had time to drain.
setTimeout(() => process.exit(code), 2000).unref();

async function fromSources() {
  let tsx;
  try {
    tsx = await import("tsx/esm/api");
  } catch {
    process.stderr.write("meshquake: no up-to-date build in dist/ and no tsx to run the sources: run `npm run build` (or `npm ci`)\n");
    process.exit(3);
  }
  tsx.register();
  return import("../src/cli/main.ts");
}
