// What a run's observers keep, settled from the scenario before the run starts: the run, a
// re-judged recording and the property tests' simulated runs build their recorders from it.
import type { ResolvedScenario } from "../scenario/types.js";
import { percentileThresholds } from "../verdict/properties/thresholds.js";
import type { RecorderPlan } from "./types.js";

/** What the observers keep: the latencies the checks judge against, the mix's paths (when several), the generator's schedule. */
export function recorderPlan(scenario: ResolvedScenario): RecorderPlan {
  const paths = [...new Set(scenario.load.requests.map((r) => r.path))];
  return {
    client: { latencyThresholdsUs: percentileThresholds(scenario), paths: paths.length > 1 ? paths : [] },
    generator: { model: scenario.load.model, rate: scenario.load.rate, lagToleranceUs: scenario.load.maxLagMs * 1000 },
  };
}
