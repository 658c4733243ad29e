// Checks over windows where the open load's generator did not keep its schedule cannot be
// judged: the system did not get the load the scenario describes. They become inconclusive,
// whatever they observed (kept in their evidence) — never passed, and not failed either: the
// generator's own delay is in every latency it measured there.
import type { CheckResult, LoadRecord } from "../model/run-report.js";
import type { ResolvedCheck } from "../scenario/types.js";
import { windowName } from "../plan/types.js";

export function inconclusiveWhereGeneratorFellBehind(
  results: readonly CheckResult[],
  checks: readonly ResolvedCheck[],
  load: LoadRecord | undefined,
): CheckResult[] {
  const windows = load?.windows;
  if (!windows || load.keptUp !== false) return [...results];
  return results.map((result, i) => {
    if (result.status === "error") return result;
    const behind = checkWindows(result, checks[i]!)
      .map((name) => ({ name, w: windows[name] }))
      .filter(({ w }) => w?.keptUp === false);
    if (behind.length === 0) return result;
    const reason =
      "the load generator could not keep up: " + behind.map(({ name, w }) => `in window ${name} ${w!.reason ?? "it fell behind"}`).join("; ");
    return { ...result, status: "inconclusive" as const, reason, evidence: { ...result.evidence, observedStatus: result.status } };
  });
}

/** The windows a check was judged over: its own, or for a property the fault it is about (and what follows it), else the whole load. */
function checkWindows(result: CheckResult, check: ResolvedCheck): string[] {
  if (check.kind === "slo") return [windowName(check.window)];
  if (result.window) return [result.window];
  const fault = check.params.fault;
  if (typeof fault === "string") return [`fault:${fault}`, `recovery:${fault}`];
  return ["whole"];
}
