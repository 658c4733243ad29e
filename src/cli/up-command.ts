// `meshquake up <scenario>`: the scenario's topology held up to poke at — its ingress, the
// Toxiproxy API over its faults, its pods — until Ctrl-C, then torn down. No load, no verdicts.
import type { Mesh } from "../library/start-mesh.js";
import type { PullPolicy } from "../runtime/pull-image.js";
import { safeLine } from "../util/safe-text.js";
import { EXIT } from "../verdict/verdict.js";
import { interruptions } from "./interruptions.js";
import { message, type CliIo } from "./io.js";
import { loadOrReport, type LoadOptions } from "./load-or-report.js";

export async function up(file: string, o: Pick<LoadOptions, "allowOutsideImports" | "seed"> & { pull?: PullPolicy }, io: CliIo): Promise<number> {
  // Every problem located, as `validate` says them, before anything is built.
  if (!(await loadOrReport(file, io, o))) return EXIT.usage;
  const stops = interruptions(io);
  let mesh: Mesh;
  try {
    const { startMesh } = await import("../library/start-mesh.js");
    mesh = await startMesh(file, { ...o, env: io.env, signal: stops.signal, log: (line) => io.stderr(`  ${safeLine(line)}\n`) });
  } catch (err) {
    stops.dispose();
    if (stops.signal.aborted) return EXIT.interrupted;
    io.stderr(`meshquake: ${safeLine(message(err))}\n`);
    return EXIT.harness;
  }
  io.stdout(
    [
      `meshquake up: ${mesh.scenario.name} is up as ${mesh.runId}`,
      `  ingress    ${mesh.ingressUrl}  (${mesh.scenario.load.target})`,
      `  toxiproxy  ${mesh.toxiproxyUrl}  (one proxy per service: ${mesh.scenario.services.map((s) => s.name).join(", ")})`,
      `  stats      ${mesh.statsUrl}/  (each sidecar's counters, refreshed every 2 s)`,
      ...mesh.pods.map((pod) => `    ${pod.padEnd(Math.max(...mesh.pods.map((p) => p.length)))}  ${mesh.statsUrl}/${pod}`),
      "Ctrl-C tears it down.",
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => stops.signal.addEventListener("abort", () => resolve(), { once: true }));
  try {
    await mesh.close();
    io.stderr(`meshquake: ${mesh.runId} torn down\n`);
    return EXIT.passed;
  } catch (err) {
    io.stderr(`meshquake: ${safeLine(message(err))}\n`);
    return EXIT.harness;
  } finally {
    stops.dispose();
  }
}
