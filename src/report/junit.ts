// JUnit XML for CI: one <testsuite> per scenario, one <testcase> per check. A breach is a
// <failure>, a check the harness could not evaluate an <error>, an inconclusive check <skipped>
// with its reason. Harness errors become one more errored testcase, so CI never shows green
// for a run that broke.
import { formatSeconds, formatThreshold, formatValue } from "./format-number.js";
import type { CheckResult, RunReport } from "../model/run-report.js";

export function renderJunit(report: RunReport): string {
  const suite = report.scenario.name;
  const cases = report.checks.map((c) => testcase(suite, c, report.scenario.source.file));
  if (report.errors.length > 0) {
    const message = report.errors.map((e) => `${e.stage}: ${e.message}`).join("\n");
    cases.push(
      `    <testcase classname="${xml(suite)}" name="harness" time="0">\n` +
        `      <error message="${xml(firstLine(message))}" type="harness">${xml(message)}</error>\n` +
        `    </testcase>`,
    );
  }
  const count = (s: string) => report.checks.filter((c) => c.status === s).length;
  const seconds = formatSeconds(report.timings.setupMs + report.timings.runMs + report.timings.teardownMs, 3);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="meshquake" tests="${cases.length}" failures="${count("failed")}" errors="${count("error") + (report.errors.length ? 1 : 0)}" skipped="${count("inconclusive")}" time="${seconds}">\n` +
    `  <testsuite name="${xml(suite)}" tests="${cases.length}" failures="${count("failed")}" errors="${count("error") + (report.errors.length ? 1 : 0)}" skipped="${count("inconclusive")}" time="${seconds}" timestamp="${xml(report.startedAt)}" file="${xml(report.scenario.source.file)}">\n` +
    `    <properties>\n` +
    prop("verdict", report.verdict) +
    prop("runId", report.runId) +
    prop("seed", String(report.scenario.seed)) +
    prop("dataPlane", report.scenario.dataPlane) +
    loadProps(report) +
    `    </properties>\n` +
    cases.join("\n") +
    (cases.length ? "\n" : "") +
    `  </testsuite>\n` +
    `</testsuites>\n`
  );
}

function testcase(suite: string, c: CheckResult, scenarioFile: string): string {
  const observed = c.observed === null ? "n/a" : formatValue(c.observed, c.unit);
  const threshold = c.threshold === null ? "n/a" : formatThreshold(c.threshold, c.unit);
  const props =
    `      <properties>\n` +
    `  ${prop("observed", c.observed === null ? "" : String(c.observed))}` +
    `  ${prop("threshold", c.threshold === null ? "" : String(c.threshold))}` +
    `  ${prop("unit", c.unit)}` +
    (c.window ? `  ${prop("window", c.window)}` : "") +
    `  ${prop("line", String(c.location.line))}` +
    `      </properties>\n`;
  const head = `    <testcase classname="${xml(suite)}" name="${xml(c.name)}" file="${xml(c.location.file ?? scenarioFile)}" line="${c.location.line}" time="0">\n`;
  const evidence = Object.keys(c.evidence).length ? `\nevidence: ${JSON.stringify(c.evidence)}` : "";
  let body = "";
  if (c.status === "failed") {
    body = `      <failure message="${xml(`observed ${observed}, threshold ${threshold}`)}" type="breach">${xml(`${c.name}: observed ${observed}, threshold ${threshold}${evidence}`)}</failure>\n`;
  } else if (c.status === "error") {
    body = `      <error message="${xml(c.reason ?? "the check could not be evaluated")}" type="harness">${xml(`${c.reason ?? ""}${evidence}`)}</error>\n`;
  } else if (c.status === "inconclusive") {
    body = `      <skipped message="${xml(`inconclusive: ${c.reason ?? "no reason given"}`)}"/>\n`;
  }
  return `${head}${props}${body}    </testcase>`;
}

/** The load the run offered, and for an open load whether its generator kept its schedule (absent in older reports). */
function loadProps(report: RunReport): string {
  const load = report.load;
  if (!load?.model) return "";
  const behind = Object.entries(load.windows ?? {})
    .filter(([, w]) => w.keptUp === false)
    .map(([name, w]) => `${name}: ${w.reason ?? "fell behind"}`);
  return (
    prop("load.model", load.model) +
    (load.intended !== undefined ? prop("load.intended", String(load.intended)) : "") +
    (load.sent !== undefined ? prop("load.sent", String(load.sent)) : "") +
    (load.notSent !== undefined && load.model === "open" ? prop("load.notSent", String(load.notSent)) : "") +
    (load.lagUs ? prop("load.lagP99Us", String(load.lagUs.p99)) : "") +
    (load.model === "open"
      ? prop("load.generator", behind.length ? `the load generator could not keep up (${behind.join("; ")})` : "kept its schedule in every window")
      : "")
  );
}

function prop(name: string, value: string): string {
  return `      <property name="${xml(name)}" value="${xml(value)}"/>\n`;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? "";
}

/** Escapes text for XML attributes and content, dropping characters XML 1.0 cannot carry. */
export function xml(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
