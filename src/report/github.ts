// GitHub Actions: `::error` annotations pointing at the scenario line of each failed check (at
// most 10, like the runner's own limit per step), and the Markdown summary appended to
// $GITHUB_STEP_SUMMARY. The environment is passed in, never read here.
import { appendFile } from "node:fs/promises";
import { formatThreshold, formatValue } from "./format-number.js";
import { renderMarkdown } from "./markdown.js";
import { safeStrings } from "../util/safe-text.js";
import type { RunReport } from "../model/run-report.js";

export const MAX_ANNOTATIONS = 10;

export function githubAnnotations(written: RunReport): string[] {
  const report = safeStrings(written);
  return report.checks
    .filter((c) => c.status === "failed")
    .slice(0, MAX_ANNOTATIONS)
    .map((c) => {
      const observed = c.observed === null ? "n/a" : formatValue(c.observed, c.unit);
      const threshold = c.threshold === null ? "n/a" : formatThreshold(c.threshold, c.unit);
      const props = `file=${property(c.location.file ?? report.scenario.source.file)},line=${c.location.line},col=${c.location.col},title=${property(`meshquake: ${c.name}`)}`;
      return `::error ${props}::${data(`${c.name} breached: observed ${observed}, threshold ${threshold}`)}`;
    });
}

/** Writes annotations to stdout and appends the summary when running under GitHub Actions. */
export async function reportToGithub(report: RunReport, env: NodeJS.ProcessEnv, stdout: (s: string) => void): Promise<string[]> {
  const written: string[] = [];
  if (env.GITHUB_ACTIONS === "true") for (const a of githubAnnotations(report)) stdout(`${a}\n`);
  if (env.GITHUB_STEP_SUMMARY) {
    await appendFile(env.GITHUB_STEP_SUMMARY, `${renderMarkdown(report)}\n`);
    written.push(env.GITHUB_STEP_SUMMARY);
  }
  return written;
}

// Workflow-command escaping: https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts
function data(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function property(s: string): string {
  return data(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
