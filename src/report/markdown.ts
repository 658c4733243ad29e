// The Markdown summary: what a GitHub job summary shows. Verdict, one table of checks, the
// breaches with their reasons, the faults as they really happened.
import { attributionLines } from "./attribution-lines.js";
import { formatMs, formatPercent, formatThreshold, formatValue } from "./format-number.js";
import { safeStrings } from "../util/safe-text.js";
import type { CheckResult, RunReport } from "../model/run-report.js";

const ICON: Record<string, string> = { passed: "✅", failed: "❌", inconclusive: "⚠️", error: "💥" };

export function renderMarkdown(written: RunReport): string {
  // The summary is shown by GitHub, and read in logs: no control character, no workflow command.
  const report = safeStrings(written);
  const out: string[] = [];
  const s = report.scenario;
  out.push(`### ${ICON[report.verdict] ?? ""} meshquake: \`${md(s.name)}\` ${report.verdict.toUpperCase()} (exit ${report.exitCode})`);
  out.push("");
  if (s.description) out.push(`${md(s.description)}`, "");
  const c = report.client;
  out.push(
    `Client: ${c.requests} requests, ${c.errors} errors (${formatPercent(c.requests ? c.errors / c.requests : 0)}), ` +
      `p50 ${formatValue(c.latencyUs.p50, "us")}, p99 ${formatValue(c.latencyUs.p99, "us")}.`,
  );
  out.push("");
  const load = report.load;
  if (load?.windows) {
    const open = load.model === "open";
    out.push(
      open
        ? `Load: open model, ${load.rate ?? s.load.rate} req/s ${load.arrivals ?? "constant"}` +
            (load.lagUs ? `; generator lag p99 ${formatValue(load.lagUs.p99, "us")}` : "") +
            (load.keptUp === false ? "; ⚠️ **the load generator fell behind**: checks over the windows marked behind are inconclusive." : ".")
        : `Load: closed model, ${load.rate ?? s.load.rate} req/s over ${load.connections ?? s.load.connections} connections (each waits for its answer: the load backs off when the system slows).`,
      "",
      `| window | intended | sent |${open ? " not sent | lag p99 | generator |" : ""}`,
      `|---|---|---|${open ? "---|---|---|" : ""}`,
    );
    for (const w of report.windows) {
      const g = load.windows[w.name];
      if (!g) continue;
      const tail = open ? ` ${g.notSent} | ${g.lagUs ? formatValue(g.lagUs.p99, "us") : "—"} | ${g.keptUp === false ? `⚠️ behind: ${md(g.reason ?? "")}` : "kept up"} |` : "";
      out.push(`| ${md(w.name)} | ${g.intended} | ${g.sent} |${tail}`);
    }
    out.push("");
  }
  if (report.checks.length) {
    out.push("| check | observed | threshold | verdict |", "|---|---|---|---|");
    for (const ch of report.checks) {
      out.push(`| ${md(ch.name)} | ${value(ch, ch.observed)} | ${threshold(ch)} | ${ICON[ch.status] ?? ""} ${ch.status} |`);
    }
    out.push("");
  }
  const breaches = report.checks.filter((ch) => ch.status !== "passed");
  if (breaches.length) {
    out.push("**Breaches and open questions**", "");
    for (const ch of breaches) {
      const why = ch.status === "failed" ? `observed ${value(ch, ch.observed)} against ${threshold(ch)}` : ch.reason ?? "";
      out.push(`- ${ICON[ch.status]} ${code(ch.name)} (${md(s.source.file)}:${ch.location.line}): ${md(why)}`);
    }
    out.push("");
  }
  const why = attributionLines(report.attribution);
  if (why.length) out.push("**Why requests failed**", "", "```", ...why, "```", "");
  if (report.faults.length) {
    out.push("| fault | kind | target | applied | reverted | observed / configured |", "|---|---|---|---|---|---|");
    for (const f of report.faults) {
      const at = (ms: number | null) => (ms === null ? "—" : formatMs(ms));
      const observed = f.observedPercent === null ? "—" : formatPercent(f.observedPercent);
      out.push(`| ${md(f.name)} | ${f.kind} | ${md(f.target)}[${f.replicas.join(",")}] | ${at(f.appliedAt)} | ${at(f.revertedAt)} | ${observed} / ${formatPercent(f.configuredPercent)} |`);
    }
    out.push("");
  }
  for (const e of report.errors) out.push(`- 💥 ${e.stage}: ${md(e.message)}`);
  if (report.errors.length) out.push("");
  return out.join("\n");
}

function value(c: CheckResult, v: number | null): string {
  return v === null ? "—" : formatValue(v, c.unit);
}

function threshold(c: CheckResult): string {
  return c.threshold === null ? "—" : formatThreshold(c.threshold, c.unit);
}

/** A code span: backslash escapes do not work inside one, so backticks are the only thing to keep out. */
function code(s: string): string {
  return `\`${s.replace(/`/g, "ˋ").replace(/\r?\n/g, " ")}\``;
}

/** Keeps scenario text from breaking the table or injecting markup. */
function md(s: string): string {
  return s.replace(/[\\`*_{}[\]<>|#]/g, (ch) => `\\${ch}`).replace(/\r?\n/g, " ");
}
