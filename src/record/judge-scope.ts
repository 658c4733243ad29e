// What `meshquake judge --scenario <file>` may change against the recorded scenario: the checks
// (thresholds, windows, properties, which ones), the description and the acknowledged warnings. Everything that shaped what
// was recorded — the services, policies, load, faults, seed, data plane, name — must be the
// recorded one: judging other traffic against a changed topology would be a report of a run that
// never happened.
import { LineCounter, parseDocument } from "yaml";
import { locate } from "../scenario/locate.js";
import type { Problem, ResolvedScenario } from "../scenario/types.js";

/** The scenario's fields that are fixed by the recording, with the key a user writes them under. */
const FIXED: ReadonlyArray<[keyof ResolvedScenario, string]> = [
  ["name", "name"],
  ["seed", "seed"],
  ["dataPlane", "dataPlane"],
  ["services", "services"],
  ["policies", "policies"],
  ["load", "load"],
  ["faults", "faults"],
];

/** One located error for each fixed field the edited scenario changes; none when it may be judged. */
export function judgeScopeProblems(recorded: ResolvedScenario, edited: ResolvedScenario): Problem[] {
  const changed = FIXED.filter(([field]) => JSON.stringify(recorded[field]) !== JSON.stringify(edited[field]));
  if (changed.length === 0) return [];
  const lines = new LineCounter();
  const doc = parseDocument(edited.source.text, { lineCounter: lines });
  return changed.map(([, key]) => {
    const at = locate(doc, lines, [key], { at: "key" });
    return {
      severity: "error" as const,
      file: edited.source.file,
      line: at.line,
      col: at.col,
      path: key,
      message:
        `${key} differs from the recorded run's: judge re-evaluates checks against what was recorded, so only checks: (thresholds, ` +
        `windows, properties) description: and acknowledge: may change; run the scenario again to judge a different ${key}`,
    };
  });
}
