// A fault given at runtime (`mesh.inject`, the Toxiproxy API) checked and resolved exactly as the
// scenario file would check and resolve it: the fault is appended to the file's own `faults:`
// list, starting at once, and the whole file parsed again — so the same rules apply (kinds,
// attributes, targets, replicas, names unique among the scenario's faults) with the same words.
// It is on no timeline: the copy drops the checks and lengthens the load to the fault's lease.
import { parseDocument } from "yaml";
import { parseScenario, readFileOrNull, realPathOrNull, type ScenarioOptions } from "../scenario/load-scenario.js";
import type { FaultSpec } from "../scenario/spec.js";
import type { Problem, ResolvedFault } from "../scenario/types.js";

/** A fault as a scenario's `faults:` list holds it, without `at` (it starts at once); `duration` bounds it (default INJECT_LEASE). */
export type FaultInput = FaultSpec extends infer F ? (F extends unknown ? Omit<F, "at"> : never) : never;

/** How long an injected fault stays on when nothing reverts it first: its dead-man switch fires then. */
export const INJECT_LEASE = "1h";

/** A fault that cannot be injected: every problem, as validation words it, at `fault.<key>`. */
export class FaultInputError extends Error {
  override name = "FaultInputError";
  constructor(
    readonly fault: string,
    readonly problems: Problem[],
  ) {
    super(`fault ${JSON.stringify(fault)} cannot be injected:\n${problems.map((p) => `  ${p.path ? `${p.path}: ` : ""}${p.message}`).join("\n")}`);
  }
}

/** The scenario file (`file`, its `text`) the mesh was started from, with `input` resolved as one of its faults. */
export function resolveFaultInput(file: string, text: string, input: FaultInput, options: ScenarioOptions = {}): ResolvedFault {
  const name = typeof (input as { name?: unknown }).name === "string" ? (input as { name: string }).name : "";
  const doc = parseDocument(text);
  const existing = doc.get("faults");
  const index = existing && typeof existing === "object" && "items" in existing ? (existing.items as unknown[]).length : 0;
  if (index === 0) doc.set("faults", doc.createNode([]));
  const duration = (input as { duration?: string }).duration ?? INJECT_LEASE;
  doc.addIn(["faults"], doc.createNode({ ...input, at: "0s", duration }));
  // Not part of a timeline: no checks to keep windows for, and a load as long as the fault may last.
  doc.delete("checks");
  if (doc.hasIn(["load"])) doc.setIn(["load", "duration"], duration);
  const r = parseScenario(file, String(doc), { readFile: readFileOrNull, realPath: realPathOrNull, ...options });
  const mine = `faults[${index}]`;
  const errors = r.problems
    .filter((p) => p.severity === "error")
    // The file itself was valid when the mesh started: what is wrong now is the fault's.
    .map((p) => ({ ...p, file: `inject(${name || "fault"})`, line: 0, col: 0, path: p.path.startsWith(mine) ? `fault${p.path.slice(mine.length)}` : p.path }));
  const fault = r.scenario?.faults.find((f) => f.name === name);
  if (errors.length || !fault) throw new FaultInputError(name, errors.length ? errors : [{ severity: "error", file: "inject", line: 0, col: 0, path: "fault.name", message: "missing" }]);
  return fault;
}
