/** Every container and network of a run carries these; `clean` and leak checks find them by label. */
export const RUN_ID_LABEL = "meshquake.run-id";
export const SCENARIO_LABEL = "meshquake.scenario";
export const ROLE_LABEL = "meshquake.role";

export function runLabels(runId: string, scenario: string): Record<string, string> {
  return { [RUN_ID_LABEL]: runId, [SCENARIO_LABEL]: scenario };
}
