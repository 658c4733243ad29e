// The reporters, each reading only the RunReport. They are isolated: one that throws is recorded
// and the others still run (and the run's teardown never depends on them).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { renderConsoleSummary } from "./console.js";
import { reportToGithub } from "./github.js";
import { renderHtml } from "./html/render-html.js";
import { reportPath, writeReport } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { REPORTER_NAMES, type ReporterName } from "./reporter-names.js";
import type { RunReport } from "../model/run-report.js";

export interface ReporterContext {
  /** <outDir>/<scenario-name>/ holds the files. */
  dir: string;
  outDir: string;
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  color: boolean;
}

/** Writes or prints one artefact; returns the files it wrote. */
export type Reporter = (report: RunReport, ctx: ReporterContext) => Promise<string[]>;

const writeText = async (file: string, text: string) => {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return [file];
};

export const reporters = {
  console: async (report, ctx) => {
    ctx.stdout(renderConsoleSummary(report, { color: ctx.color }));
    return [];
  },
  json: async (report, ctx) => [await writeReport(report, ctx.outDir)],
  html: async (report, ctx) => writeText(path.join(ctx.dir, "report.html"), renderHtml(report)),
  junit: async (report, ctx) => writeText(path.join(ctx.dir, "junit.xml"), renderJunit(report)),
  markdown: async (report, ctx) => [
    ...(await writeText(path.join(ctx.dir, "summary.md"), renderMarkdown(report))),
    ...(await reportToGithub(report, ctx.env, ctx.stdout)),
  ],
} satisfies Record<ReporterName, Reporter>;

export { REPORTER_NAMES, type ReporterName };

export interface ArtefactOptions {
  outDir: string;
  reporters: string[];
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  color?: boolean;
}

export async function writeArtefacts(
  report: RunReport,
  opts: ArtefactOptions,
): Promise<{ written: string[]; errors: { reporter: string; message: string }[] }> {
  const dir = path.dirname(reportPath(opts.outDir, report.scenario.name));
  const ctx: ReporterContext = { dir, outDir: opts.outDir, env: opts.env, stdout: opts.stdout, color: opts.color ?? false };
  const written: string[] = [];
  const errors: { reporter: string; message: string }[] = [];
  for (const name of opts.reporters) {
    const reporter = (reporters as Record<string, Reporter>)[name];
    if (!reporter) {
      errors.push({ reporter: name, message: `unknown reporter "${name}"; known: ${REPORTER_NAMES.join(", ")}` });
      continue;
    }
    try {
      written.push(...(await reporter(report, ctx)));
    } catch (err) {
      errors.push({ reporter: name, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { written, errors };
}
