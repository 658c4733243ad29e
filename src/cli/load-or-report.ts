// Reading a scenario for `plan` and `run`: its problems on stderr, the scenario only when it has no error.
import { availableDataPlanes } from "../dataplane/registry.js";
import { formatProblem } from "../scenario/format-problem.js";
import { readScenario } from "../scenario/load-scenario.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { safeLine } from "../util/safe-text.js";
import type { CliIo } from "./io.js";

export interface LoadOptions {
  seed?: number;
  dataPlane?: string;
  allowOutsideImports?: boolean;
}

export async function loadOrReport(file: string, io: CliIo, o: LoadOptions): Promise<ResolvedScenario | null> {
  // --data-plane is a usage choice: one this build does not have is refused before anything runs.
  if (o.dataPlane && !(availableDataPlanes() as string[]).includes(o.dataPlane)) {
    io.stderr(
      `meshquake: --data-plane ${o.dataPlane}: this build has no ${o.dataPlane} data plane; available: ${availableDataPlanes().join(", ")}\n`,
    );
    return null;
  }
  const { scenario, problems } = await readScenario(file, { seed: o.seed, allowOutsideImports: o.allowOutsideImports });
  for (const p of problems) io.stderr(`${safeLine(formatProblem(p))}\n`);
  if (!scenario || problems.some((p) => p.severity === "error")) return null;
  if (o.dataPlane) return { ...scenario, dataPlane: o.dataPlane as ResolvedScenario["dataPlane"] };
  return scenario;
}
