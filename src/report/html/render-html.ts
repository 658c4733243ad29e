// The HTML report: one self-contained file (uPlot, styles and data inlined) that opens from
// disk with no network. Everything but the charts is rendered here, so the page reads
// correctly even before (or without) its script; the script only draws the timelines.
import { createHash } from "node:crypto";
import { faultSpan } from "../../faults/span.js";
import type { CheckResult, FailureAttribution, RunReport, WindowRecord } from "../../model/run-report.js";
import { loadAssets } from "./assets.js";
import { CLIENT_JS } from "./client.js";
import {
  cssPercent,
  formatCount,
  pageDurationMs,
  pageEvidenceValue,
  pageLatencyUs,
  pageOffsetMs,
  pagePercent,
  pageRatio,
  pageValue,
} from "../format-number.js";
import { html, jsonForScript, type SafeHtml, trusted } from "./html.js";
import { REPORT_CSS } from "./styles.js";
import { checkSubject, countByStatus, errorShare, isBreach, STATUS_ORDER, summariseChecks } from "./tallies.js";
import { type EdgeChart, meshPayload, meshView, type MeshView, overflowsOf, type ShareChart } from "./mesh-view.js";
import { EDGE_COLOURS, edgeHealth, renderTopology } from "./topology.js";

/** Colours of fault windows, in fault order; the charts and the fault table share them. */
export const FAULT_COLOURS = ["#fb8f44", "#a475f9", "#2da44e", "#54aeff", "#e85aad", "#d4a72c", "#1b7c83", "#8c959f"] as const;

const VERDICT_WORD: Record<RunReport["verdict"], string> = {
  passed: "PASSED",
  failed: "FAILED",
  inconclusive: "INCONCLUSIVE",
  error: "ERROR",
};

/** What the page's script needs beyond the report: fault bands and SLO threshold lines, in seconds. */
export interface ChartView {
  durationS: number;
  bands: { name: string; start: number; end: number; fill: string; stroke: string; applied: boolean }[];
  thresholds: { scale: "err" | "lat"; value: number; start: number; end: number; label: string; color: string }[];
}

function faultColour(index: number): string {
  return FAULT_COLOURS[index % FAULT_COLOURS.length] ?? "#8c959f";
}

function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export function chartView(report: RunReport): ChartView {
  const lastPoint = report.client.timeline.at(-1);
  const durationS = Math.max(report.scenario.load.durationMs / 1000, lastPoint ? lastPoint.t + 1 : 0, 1);
  const bands = report.faults.map((f, i) => {
    const span = faultSpan(f);
    const colour = faultColour(i);
    return { name: f.name, start: span.start / 1000, end: span.end / 1000, fill: withAlpha(colour, f.appliedAt === null ? 0.08 : 0.18), stroke: colour, applied: f.appliedAt !== null };
  });
  const thresholds: ChartView["thresholds"] = [];
  for (const c of report.checks) {
    if (c.kind !== "slo" || c.threshold === null || (c.unit !== "fraction" && c.unit !== "us")) continue;
    const w = windowOf(report, c.window ?? "whole");
    if (!w) continue;
    thresholds.push({
      scale: c.unit === "fraction" ? "err" : "lat",
      value: c.unit === "fraction" ? c.threshold * 100 : c.threshold / 1000,
      start: w.start / 1000,
      end: w.end / 1000,
      label: checkSubject(c),
      color: c.status === "passed" ? "#1a7f37" : c.status === "failed" ? "#cf222e" : "#9a6700",
    });
  }
  return { durationS, bands, thresholds };
}

function windowOf(report: RunReport, name: string | undefined): WindowRecord | undefined {
  return name === undefined ? undefined : report.windows.find((w) => w.name === name);
}

function spanText(start: number, end: number): string {
  return `${pageOffsetMs(start)} – ${pageOffsetMs(end)}`;
}

function chip(status: string): SafeHtml {
  return html`<span class="chip chip-${status}">${status}</span>`;
}

function windowLink(report: RunReport, name: string | undefined): SafeHtml {
  const resolved = name ?? "whole";
  const w = windowOf(report, resolved);
  if (!w) return html`<span>${resolved}</span>`;
  return html`<a class="win-link" href="#timelines" data-window="${w.name}" data-start="${w.start}" data-end="${w.end}" title="Highlight this window on the charts">${w.name}</a><br><span class="muted small">${spanText(w.start, w.end)}</span>`;
}

/** The check as written, plus whatever its name adds (an edge, a target) minus the window. */
function checkLabel(c: CheckResult): SafeHtml {
  const subject = checkSubject(c);
  let rest = c.name.startsWith(subject) ? c.name.slice(subject.length) : ` — ${c.name}`;
  if (c.window && rest.trim() === `@ ${c.window}`) rest = "";
  return html`<span class="check-name"><code>${subject}</code>${rest}</span>`;
}

function sourceLink(c: CheckResult): SafeHtml {
  return html`<a class="small" href="#src-L${c.location.line}" title="Show in the scenario source">line ${c.location.line}</a>`;
}

function evidenceList(c: CheckResult): SafeHtml {
  const entries = Object.entries(c.evidence);
  const items = entries.map(([k, v]) => html`<li><span class="k">${k}:</span> ${pageEvidenceValue(k, v)}</li>`);
  return html`${c.reason ? html`<div class="reason">${c.reason}</div>` : html``}${entries.length ? html`<ul class="evidence">${items}</ul>` : html``}${!c.reason && !entries.length ? html`<span class="muted">—</span>` : html``}`;
}

function formatStarted(iso: string): string {
  return iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
}

function byStatus(checks: CheckResult[]): CheckResult[] {
  return checks
    .map((c, i) => ({ c, i }))
    .sort((a, b) => STATUS_ORDER.indexOf(a.c.status) - STATUS_ORDER.indexOf(b.c.status) || a.i - b.i)
    .map((x) => x.c);
}

function verdictSection(report: RunReport): SafeHtml {
  const c = report.client;
  const ran = c.requests > 0;
  const facts: [string, string][] = [
    ["Requests", formatCount(c.requests)],
    ["Errors", ran ? `${formatCount(c.errors)} (${pagePercent(c.errors / c.requests)})` : "—"],
    ["p50", ran ? pageLatencyUs(c.latencyUs.p50) : "—"],
    ["p99", ran ? pageLatencyUs(c.latencyUs.p99) : "—"],
    ["Load", `${formatCount(report.scenario.load.rate)} req/s for ${pageDurationMs(report.scenario.load.durationMs)}`],
    ["Exit code", String(report.exitCode)],
    ["Started", formatStarted(report.startedAt)],
  ];
  const errors = report.errors.length
    ? html`<div class="alert" id="harness-errors"><strong>The harness reported ${report.errors.length === 1 ? "an error" : `${report.errors.length} errors`}</strong> (not a verdict on the system under test):<ul>${report.errors.map((e) => html`<li><strong>${e.stage}:</strong> ${e.message}</li>`)}</ul></div>`
    : html``;
  const warnings = report.warnings.length
    ? html`<div class="alert warn" id="warnings"><strong>Warnings</strong><ul>${report.warnings.map((w) => html`<li>${w}</li>`)}</ul></div>`
    : html``;
  return html`<header class="verdict verdict-${report.verdict}" id="verdict"><div class="wrap">
<div class="verdict-top"><span class="verdict-word" data-testid="verdict">${VERDICT_WORD[report.verdict]}</span><span class="verdict-summary">${summariseChecks(report.checks)}</span></div>
<h1>${report.scenario.name}</h1>
${report.scenario.description ? html`<p class="description">${report.scenario.description}</p>` : html``}
<dl class="facts">${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
${errors}${warnings}
</div></header>`;
}

function navigation(report: RunReport): SafeHtml {
  const counts = countByStatus(report.checks);
  const breaches = counts.failed + counts.error + counts.inconclusive;
  return html`<nav class="toc"><div class="wrap"><span>${chip(report.verdict)}<strong>${report.scenario.name}</strong></span>
<a href="#breaches">Breaches (${breaches})</a><a href="#timelines">Timelines</a><a href="#traffic">Traffic</a><a href="#topology">Topology</a><a href="#faults">Faults</a><a href="#source">Scenario</a><a href="#environment">Environment</a></div></nav>`;
}

/** Why client requests failed: each cause, the edge that decided it, and one traced example. */
function attributionBlock(a: FailureAttribution | undefined): SafeHtml {
  if (!a || a.failed === 0) return html``;
  const rows = Object.entries(a.byCause)
    .sort((x, y) => y[1] - x[1])
    .map(([cause, n]) => {
      const edges = a.byEdge.filter((e) => (e.byCause[cause] ?? 0) > 0).map((e) => `${e.from} → ${e.to} (${formatCount(e.byCause[cause]!)})`);
      const example = a.examples.find((x) => x.cause === cause);
      return html`<tr data-cause="${cause}"><td><strong>${cause}</strong></td><td class="num">${formatCount(n)}</td><td class="num">${pagePercent(n / a.failed)}</td><td>${edges.join(", ")}</td><td class="small">${example ? html`${example.detail}${example.requestId ? html` <span class="muted mono">${example.requestId}</span>` : html``}` : html``}</td></tr>`;
    });
  const lastTry = Object.entries(a.byLastTry).sort((x, y) => y[1] - x[1]);
  return html`<h3 id="attribution">Why requests failed</h3>
<p class="note">${formatCount(a.failed)} failed client requests, ${formatCount(a.traced)} traced hop by hop through the sidecars' logs by request id${a.notKept ? html` (${formatCount(a.notKept)} only counted)` : html``}.${lastTry.length ? html` The last try hit: ${lastTry.map(([what, n]) => `${what} (${formatCount(n)})`).join(", ")}.` : html``}</p>
<div class="table-scroll"><table class="attribution-table"><thead><tr><th>Cause</th><th class="num">Requests</th><th class="num">Share</th><th>Decided at</th><th>Example</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function breachesSection(report: RunReport): SafeHtml {
  const breaches = byStatus(report.checks.filter(isBreach));
  const rows = breaches.map((c, i) => html`<tr class="breach status-${c.status}" id="breach-${i + 1}" data-check="${c.name}">
<td>${chip(c.status)}</td>
<td>${checkLabel(c)}<br>${sourceLink(c)}</td>
<td class="num observed">${pageValue(c.observed, c.unit)}</td>
<td class="num">${pageValue(c.threshold, c.unit)}</td>
<td>${windowLink(report, c.window)}</td>
<td>${evidenceList(c)}</td></tr>`);
  const table = breaches.length
    ? html`<div class="table-scroll"><table class="breach-table"><thead><tr><th>Status</th><th>Check</th><th class="num">Observed</th><th class="num">Threshold</th><th>Window</th><th>Evidence and reason</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : report.checks.length
      ? html`<p class="all-clear">All ${report.checks.length} checks passed.</p>`
      : html`<p class="empty">The scenario has no checks.</p>`;
  const all = report.checks.map((c) => html`<tr class="status-${c.status}"><td>${chip(c.status)}</td><td>${checkLabel(c)} ${sourceLink(c)}</td><td class="num observed">${pageValue(c.observed, c.unit)}</td><td class="num">${pageValue(c.threshold, c.unit)}</td><td>${windowLink(report, c.window)}</td></tr>`);
  return html`<section id="breaches"><h2>Breaches</h2>${table}
${attributionBlock(report.attribution)}
${report.checks.length ? html`<details${breaches.length ? html`` : html` open`}><summary>All checks (${report.checks.length})</summary><div class="table-scroll"><table class="checks-table"><thead><tr><th>Status</th><th>Check</th><th class="num">Observed</th><th class="num">Threshold</th><th>Window</th></tr></thead><tbody>${all}</tbody></table></div></details>` : html``}
</section>`;
}

function shareChartBlock(c: ShareChart): SafeHtml {
  const ejected = new Set(c.ejections.map((e) => e.replica)).size;
  return html`<div class="chart-block"><div class="chart-title"><h4>${c.service}</h4><span class="muted small">${c.replicas.length} replicas · ${formatCount(c.total)} requests${ejected ? html` · <span class="warn-text">${ejected === 1 ? "1 replica" : `${ejected} replicas`} ejected</span>` : html``}</span></div><div id="${c.id}" class="chart" data-chart="share" data-service="${c.service}"></div></div>`;
}

function edgeChartBlock(c: EdgeChart): SafeHtml {
  const t = c.totals;
  const facts = [
    `${formatCount(t.retries)} retries`,
    t.requests > 0 ? `${pageRatio(t.attempts / t.requests)} attempts/request` : null,
    `${formatCount(t.errors)} failed`,
  ].filter((x): x is string => x !== null);
  return html`<div class="chart-block"><div class="chart-title"><h4>${c.from}<span class="edge-arrow">→</span>${c.to}</h4><span class="muted small">${facts.join(" · ")}${t.overflows ? html` · <span class="bad-text">${formatCount(t.overflows)} overflows</span>` : html``}</span></div><div id="${c.id}" class="chart" data-chart="edge" data-edge="${c.from} → ${c.to}"></div></div>`;
}

/** Open charts in a grid, the rest in a collapsed list the script draws when it is opened. */
function chartGrid<T extends { open: boolean }>(charts: T[], block: (c: T) => SafeHtml, noun: string): SafeHtml {
  const open = charts.filter((c) => c.open);
  const closed = charts.filter((c) => !c.open);
  return html`<div class="chart-grid">${open.map(block)}</div>${closed.length ? html`<details class="more-charts"><summary>${closed.length} more ${noun}</summary><div class="chart-grid">${closed.map(block)}</div></details>` : html``}`;
}

function meshCharts(report: RunReport, mesh: MeshView | null): SafeHtml {
  if (!mesh) {
    return html`<div class="chart-group" id="mesh-charts"><h3>Traffic share per replica and retries per edge</h3><p class="empty" id="mesh-absent">Not charted: this report has no per-second series per replica or edge (it was written before meshquake recorded them). The totals are under <a href="#traffic">Traffic by replica and edge</a>.</p></div>`;
  }
  const quiet = mesh.quietEdges.map((e) => html`<span class="nowrap"><strong>${e.from}</strong><span class="edge-arrow">→</span><strong>${e.to}</strong></span>`);
  const ejections = mesh.shares.some((c) => c.ejections.length);
  return html`<div class="chart-group" id="mesh-charts">
<h3>Traffic share per replica</h3>
<p class="legend">Each band is one replica's share of the requests reaching its service in that second, retries included. A band that thins to nothing is a replica out of rotation; the others widen as traffic fails over.${ejections ? html` Bars under a chart: when outlier detection ejected the replica.` : html``}</p>
${mesh.shares.length ? chartGrid(mesh.shares, shareChartBlock, "services") : html`<p class="empty">Every service has a single replica: there is no share to chart.</p>`}
<h3>Retries and failed requests per edge</h3>
<p class="legend">Per second on each call from a caller to a callee: the requests the caller sent (grey), the retries its sidecars added (orange) and the requests that failed (red).</p>
${mesh.edges.length ? chartGrid(mesh.edges, edgeChartBlock, "edges") : mesh.quietEdges.length ? html`` : html`<p class="empty">No calls between services were recorded.</p>`}
${quiet.length ? html`<p class="note muted small" id="quiet-edges">${mesh.edges.length ? "No retries or failures on" : "No edge retried or failed a request:"} ${quiet.map((q, i) => html`${i ? ", " : ""}${q}`)}.</p>` : html``}
</div>`;
}

function timelinesSection(report: RunReport, view: ChartView, mesh: MeshView | null): SafeHtml {
  const caption = html`<div id="highlight-caption" class="highlight-caption" hidden><span id="highlight-text"></span><button type="button" data-action="zoom">Zoom to window</button><button type="button" data-action="unzoom">Full run</button><button type="button" data-action="clear">Clear</button></div>`;
  if (!report.client.timeline.length) {
    return html`<section id="timelines"><h2>Timelines</h2>${caption}<p class="empty">No timeline was recorded: the run stopped before load produced any samples.</p></section>`;
  }
  const bands = view.bands.map((b) => html`<span class="legend-item"><span class="swatch" style="background:${b.fill};border-color:${b.stroke}"></span>${b.name}${b.applied ? html`` : html` <span class="muted">(scheduled, not applied)</span>`}</span>`);
  return html`<section id="timelines"><h2>Timelines</h2>${caption}
<p class="legend" id="fault-legend">${view.bands.length ? html`Fault windows: ${bands}` : html`No faults in this scenario.`}<br>Dashed lines: SLO thresholds over the window they are judged on. Drag across a chart to zoom them all; double-click to reset.</p>
<div class="chart-block"><div class="chart-title"><h3>Client requests per second — intended, sent, not sent — and error rate</h3></div>${loadNote(report)}<div id="chart-traffic" class="chart" data-chart="traffic"></div></div>
<div class="chart-block"><div class="chart-title"><h3>Client latency per second: p50, p90, p99</h3><span id="latency-scale" class="muted small"></span></div><div id="chart-latency" class="chart" data-chart="latency"></div></div>
${meshCharts(report, mesh)}
<p id="chart-error" class="alert" hidden></p>
<noscript><p class="empty">The charts need JavaScript; every other section of this report works without it.</p></noscript>
</section>`;
}

/** One line on how the load was generated and whether the generator kept its schedule (absent in older reports). */
function loadNote(report: RunReport): SafeHtml {
  const load = report.load;
  if (!load?.model) return html``;
  if (load.model === "closed") {
    return html`<p class="muted small" id="load-note">Closed-loop load: ${load.connections ?? report.scenario.load.connections} connections, each waiting for its answer before sending again — it sent ${formatCount(load.sent ?? load.recorded)} of the ${formatCount(load.intended ?? 0)} requests its rate called for, backing off whenever the system slowed.</p>`;
  }
  const behind = Object.entries(load.windows ?? {}).filter(([, w]) => w.keptUp === false);
  const lag = load.lagUs ? html` Its own lag (actual minus scheduled send time): p50 ${pageLatencyUs(load.lagUs.p50)}, p99 ${pageLatencyUs(load.lagUs.p99)}, max ${pageLatencyUs(load.lagUs.max)}.` : html``;
  const notSent = load.notSent ? html` <strong>${formatCount(load.notSent)} requests were not sent</strong>: ${load.maxInFlight} were already in flight (they count as failures).` : html``;
  const state = behind.length
    ? html` <strong class="warn-text">The generator fell behind</strong> in ${behind.map(([name, w]) => html`${name} (${w.reason ?? "behind"}); `)}checks over those windows are inconclusive.`
    : html` It kept its schedule in every window.`;
  return html`<p class="muted small" id="load-note">Open-loop load: ${load.rate ?? report.scenario.load.rate} requests/s, ${load.arrivals ?? "constant"} arrivals, sent on schedule whatever the system did; latency counts from each request's scheduled time.${lag}${notSent}${state}</p>`;
}

function ejectionCell(report: RunReport, r: RunReport["replicas"][number], chartId: string | undefined): SafeHtml {
  if (!r.ejections.length) return html`<td>—${r.ejectionsSkipped ? html`<br><span class="muted small">${formatCount(r.ejectionsSkipped)} skipped (max ejection %)</span>` : html``}</td>`;
  const end = report.scenario.load.durationMs;
  const items = [...r.ejections].sort((a, b) => a.at - b.at).map((e) => {
    const until = e.until ?? end;
    const by = [e.by ? `by ${e.by}` : "", e.count && e.count > 1 ? `×${e.count} in a row` : ""].filter(Boolean).join(", ");
    return html`<li><a class="win-link" href="#${chartId ?? "timelines"}" data-window="${r.service}[${r.index}] ejected" data-start="${e.at}" data-end="${until}" title="Highlight on the charts">${pageOffsetMs(e.at)} → ${e.until === null ? "end" : pageOffsetMs(e.until)}</a> <span class="muted small">${pageDurationMs(until - e.at)}${by ? ` · ${by}` : ""}</span></li>`;
  });
  return html`<td class="ejected"><ul class="ejections">${items}</ul>${r.ejectionsSkipped ? html`<span class="muted small">${formatCount(r.ejectionsSkipped)} more skipped (max ejection %)</span>` : html``}</td>`;
}

/** "v1 66.7% · v2 33.3%": a service's requests by the version that served them; null without versions. */
function versionShares(rows: readonly RunReport["replicas"][number][], total: number): string | null {
  if (!rows.some((r) => r.version !== undefined)) return null;
  const byVersion = new Map<string, number>();
  for (const r of rows) byVersion.set(r.version ?? "(none)", (byVersion.get(r.version ?? "(none)") ?? 0) + r.requests);
  return [...byVersion].map(([v, n]) => `${v} ${pagePercent(total > 0 ? n / total : 0)}`).join(" · ");
}

function trafficSection(report: RunReport, mesh: MeshView | null): SafeHtml {
  const services = [...new Set([...report.scenario.services.map((s) => s.name), ...report.replicas.map((r) => r.service)])];
  const shareChart = new Map(mesh?.shares.map((c) => [c.service, c.id]) ?? []);
  const replicaRows = services.flatMap((service) => {
    const rows = report.replicas.filter((r) => r.service === service).sort((a, b) => a.index - b.index);
    const total = rows.reduce((n, r) => n + r.requests, 0);
    const byVersion = versionShares(rows, total);
    return rows.map((r, i) => {
      const share = total > 0 ? r.requests / total : 0;
      const err = errorShare(r.statusCounts);
      return html`<tr${i === 0 ? html` class="group-start"` : html``}${r.ejections.length ? html` data-ejected="${r.service}[${r.index}]"` : html``}>${i === 0 ? html`<td rowspan="${rows.length}"><strong>${service}</strong><br><span class="muted small">${formatCount(total)} requests</span>${byVersion ? html`<br><span class="muted small" data-versions="${service}">by version: ${byVersion}</span>` : html``}</td>` : html``}<td class="mono">[${r.index}]${r.version === undefined ? html`` : html` <span class="muted">${r.version}</span>`}</td><td class="num">${formatCount(r.requests)}</td><td><span class="bar"><span style="width:${cssPercent(share)}"></span></span>${pagePercent(share)}</td><td class="num${err.share !== null && err.share >= 0.01 ? " bad-text" : ""}">${err.share === null ? "—" : pagePercent(err.share)}</td>${ejectionCell(report, r, shareChart.get(service))}</tr>`;
    });
  });
  const edges = [...report.edges].sort((a, b) => b.attempts / Math.max(1, b.requests) - a.attempts / Math.max(1, a.requests) || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  const maxAmp = Math.max(1, ...edges.map((e) => e.attempts / Math.max(1, e.requests)));
  // Overflows are worth a column when a breaker could refuse requests or one did.
  const showOverflows = edges.some((e) => (overflowsOf(e) ?? 0) > 0) || Object.values(report.scenario.policies).some((p) => p.circuitBreaker !== null);
  const edgeRows = edges.map((e) => {
    const err = errorShare(e.statusCounts);
    const health = edgeHealth(err.share);
    const amp = e.requests > 0 ? e.attempts / e.requests : null;
    const overflows = overflowsOf(e);
    const statuses = Object.entries(e.statusCounts).map(([k, v]) => `${k}×${formatCount(v)}`).join(" · ");
    const byReplica = Object.entries(e.byReplica).map(([k, v]) => `[${k}] ${formatCount(v)}`).join(" · ");
    const overflowCell = showOverflows
      ? html`<td class="num${overflows ? " bad-text" : ""}">${overflows === null ? "—" : html`${formatCount(overflows)}${overflows && e.requests ? html`<br><span class="small">${pagePercent(overflows / e.requests)}</span>` : html``}`}</td>`
      : html``;
    return html`<tr><td><strong>${e.from}</strong><span class="edge-arrow">→</span><strong>${e.to}</strong></td><td class="num">${formatCount(e.requests)}</td><td class="num">${formatCount(e.attempts)}</td><td class="num">${formatCount(e.retries)}</td><td class="num">${amp === null ? "—" : html`<span class="bar${amp >= 1.5 ? " bar-bad" : amp >= 1.2 ? " bar-warn" : ""}"><span style="width:${cssPercent(amp / maxAmp)}"></span></span>${pageRatio(amp)}`}</td><td class="num"><span class="dot" style="background:${EDGE_COLOURS[health]}"></span>${err.share === null ? "—" : pagePercent(err.share)}</td>${overflowCell}<td class="small">${statuses || "—"}<br><span class="muted">by replica: ${byReplica || "—"}</span></td></tr>`;
  });
  const note = mesh
    ? html`Totals over the whole run; second by second they are charted under <a href="#mesh-charts">Timelines</a>.`
    : html`Totals over the whole run. This report has no per-second series per replica or edge, so there is nothing to chart them with.`;
  return html`<section id="traffic"><h2>Traffic by replica and edge</h2>
<p class="note muted small" id="traffic-note">${note}</p>
<h3>Traffic share per replica</h3>
${replicaRows.length ? html`<div class="table-scroll"><table class="replica-table"><thead><tr><th>Service</th><th>Replica</th><th class="num">Requests</th><th>Share of service</th><th class="num">Errors</th><th>Ejected (outlier detection)</th></tr></thead><tbody>${replicaRows}</tbody></table></div>` : html`<p class="empty">No per-replica traffic was recorded.</p>`}
<h3>Retries per edge</h3>
${edgeRows.length ? html`<div class="table-scroll"><table class="edge-table"><thead><tr><th>Edge (caller → callee)</th><th class="num">Requests</th><th class="num">Attempts</th><th class="num">Retries</th><th class="num">Attempts / request</th><th class="num">Errors</th>${showOverflows ? html`<th class="num" title="Requests the caller's circuit breaker refused">Overflows</th>` : html``}<th>Final status and attempts by replica</th></tr></thead><tbody>${edgeRows}</tbody></table></div>` : html`<p class="empty">No per-edge traffic was recorded.</p>`}
</section>`;
}

function topologySection(report: RunReport): SafeHtml {
  return html`<section id="topology"><h2>Topology</h2>${renderTopology(report)}</section>`;
}

function faultsSection(report: RunReport): SafeHtml {
  if (!report.faults.length) return html`<section id="faults"><h2>Faults</h2><p class="empty">This scenario injects no faults.</p></section>`;
  const resolved = new Map(report.scenario.faults.map((f) => [f.name, f]));
  const rows = report.faults.map((f, i) => {
    const colour = faultColour(i);
    const obs = f.observedPercent;
    const off = f.appliedAt !== null && (obs === null || Math.abs(obs - f.configuredPercent) > Math.max(0.05, f.configuredPercent * 0.25));
    const span = faultSpan(f);
    const line = resolved.get(f.name)?.location.line;
    const replicas = f.replicas.length ? `[${f.replicas.join(", ")}]` : "";
    return html`<tr data-fault="${f.name}"><td><span class="swatch" style="background:${withAlpha(colour, 0.35)};border-color:${colour}"></span> <a class="win-link" href="#timelines" data-window="fault:${f.name}" data-start="${span.start}" data-end="${span.end}"><strong>${f.name}</strong></a>${line ? html`<br><a class="small" href="#src-L${line}">line ${line}</a>` : html``}</td>
<td>${f.kind}</td><td>${f.target}<span class="muted">${replicas}</span></td>
<td class="num">${pagePercent(f.configuredPercent)}</td>
<td class="num${off ? " warn-text" : ""}"${off ? html` title="observed rate differs from the configured rate"` : html``}>${obs === null ? "—" : pagePercent(obs)}${off ? " ⚠" : ""}</td>
<td class="num">${formatCount(f.affected)} / ${formatCount(f.eligible)}</td>
<td class="num">${f.activationMs === null ? "—" : pageDurationMs(f.activationMs)}</td>
<td class="num">${spanText(f.scheduledAt, f.scheduledEnd)}</td>
<td class="num${f.appliedAt === null ? " warn-text" : ""}">${f.appliedAt === null ? "not applied" : pageOffsetMs(f.appliedAt)}</td>
<td class="num">${f.revertedAt === null ? (f.appliedAt === null ? "—" : "not reverted") : pageOffsetMs(f.revertedAt)}</td></tr>`;
  });
  return html`<section id="faults"><h2>Faults</h2><div class="table-scroll"><table class="fault-table"><thead><tr><th>Fault</th><th>Kind</th><th>Target</th><th class="num">Configured</th><th class="num">Observed</th><th class="num">Affected / eligible</th><th class="num">Activation</th><th class="num">Scheduled</th><th class="num">Applied</th><th class="num">Reverted</th></tr></thead><tbody>${rows}</tbody></table></div>
<p class="legend">Observed: share of the requests that reached the fault's targets while it was active and were affected by it. Activation: from apply to the first affected response in the sidecar logs.</p></section>`;
}

/** One YAML line with keys and comments tinted; every part escaped. */
function yamlLine(line: string): SafeHtml {
  const m = /^(\s*(?:-\s+)?)([^\s:#"'][^:#]*?|"[^"]*"|'[^']*')(:)(\s.*|$)/.exec(line);
  const [head, keyPart, rest] = m ? [m[1] ?? "", (m[2] ?? "") + (m[3] ?? ""), m[4] ?? ""] : ["", "", line];
  const hash = rest.search(/(^|\s)#/);
  const value = hash >= 0 ? rest.slice(0, hash) : rest;
  const comment = hash >= 0 ? rest.slice(hash) : "";
  if (!m && /^\s*#/.test(line)) return html`<span class="y-comment">${line}</span>`;
  return html`${head}${keyPart ? html`<span class="y-key">${keyPart}</span>` : html``}${value}${comment ? html`<span class="y-comment">${comment}</span>` : html``}`;
}

function sourceSection(report: RunReport): SafeHtml {
  const source = report.scenario.source;
  const byLine = new Map<number, CheckResult[]>();
  for (const c of report.checks.filter(isBreach)) {
    const list = byLine.get(c.location.line) ?? [];
    list.push(c);
    byLine.set(c.location.line, list);
  }
  const lines = source.text.replace(/\n$/, "").split("\n");
  const body = lines.map((text, i) => {
    const n = i + 1;
    const checks = byStatus(byLine.get(n) ?? []);
    const worst = checks[0];
    const note = checks.map((c) => `${c.status === "failed" ? "✗" : c.status === "error" ? "!" : "?"} ${c.status}: ${c.observed === null && c.reason ? c.reason : `observed ${pageValue(c.observed, c.unit)}, threshold ${pageValue(c.threshold, c.unit)}`}`).join("   ");
    return html`<span class="line${worst ? ` hl-${worst.status}` : ""}" id="src-L${n}" data-n="${n}">${yamlLine(text)}${note ? html`<span class="annotation">${note}</span>` : html``}</span>`;
  });
  return html`<section id="source"><h2>Scenario</h2><p class="note"><span class="mono">${source.file}</span> <span class="muted small">— lines of checks that did not pass are highlighted</span></p><pre class="source"><code>${body}</code></pre></section>`;
}

function environmentSection(report: RunReport): SafeHtml {
  const t = report.timings;
  const timings: [string, string][] = [
    ["Setup", pageDurationMs(t.setupMs)],
    ["Run", pageDurationMs(t.runMs)],
    ["Teardown", pageDurationMs(t.teardownMs)],
    ["Total", pageDurationMs(t.setupMs + t.runMs + t.teardownMs)],
    ...Object.entries(t.steps).map(([k, v]): [string, string] => [`step: ${k}`, pageDurationMs(v)]),
  ];
  const e = report.environment;
  const env: [string, string][] = [
    ["meshquake", `${report.tool.version} (report schema ${report.schemaVersion})`],
    ["Run id", report.runId],
    ["Started", formatStarted(report.startedAt)],
    ["Scenario file", report.scenario.source.file],
    ["Seed", String(report.scenario.seed)],
    ["Data plane", e.dataPlane],
    ["Image", e.image ?? "—"],
    ["Docker", e.docker ?? "—"],
    ["Node.js", e.node],
    ["Platform", e.platform],
  ];
  const dl = (pairs: [string, string][]) => html`<dl class="kv">${pairs.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
  return html`<section id="environment"><h2>Timings and environment</h2><div class="two-col"><div><h3>Timings</h3>${dl(timings)}</div><div><h3>Environment</h3>${dl(env)}</div></div></section>`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64");
}

/**
 * What the page's script draws, and nothing else: the rest of the report is already on the page
 * as HTML and in report.json beside it. Keeps a long run of a wide mesh under the size budget.
 */
function chartPayload(report: RunReport, view: ChartView, mesh: MeshView | null): unknown {
  // What the generator intended and sent each second (absent in reports from before the open load).
  const load = report.load?.perSecond?.map((s) => [s.t, s.intended, s.sent, s.notSent]) ?? null;
  return { view, timeline: report.client.timeline, load, mesh: meshPayload(mesh) };
}

export function renderHtml(report: RunReport): string {
  const assets = loadAssets();
  const view = chartView(report);
  const mesh = meshView(report, view.durationS);
  // Only these two scripts may run: a hash-based CSP also stops anything that escaping missed.
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${sha256(assets.uplotJs)}' 'sha256-${sha256(CLIENT_JS)}'`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const title = `${VERDICT_WORD[report.verdict]} · ${report.scenario.name} — meshquake`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="generator" content="meshquake ${report.tool.version}">
<title>${title}</title>
<style>${trusted(assets.uplotCss)}${trusted(REPORT_CSS)}</style>
</head>
<body data-verdict="${report.verdict}">
${verdictSection(report)}
${navigation(report)}
<main class="wrap">
${breachesSection(report)}
${timelinesSection(report, view, mesh)}
${trafficSection(report, mesh)}
${topologySection(report)}
${faultsSection(report)}
${sourceSection(report)}
${environmentSection(report)}
<footer>Generated by meshquake ${report.tool.version} from run ${report.runId}. The raw data is in <a href="report.json">report.json</a> beside this file.</footer>
</main>
<script type="application/json" id="mq-data">${trusted(jsonForScript(chartPayload(report, view, mesh)))}</script>
<script>${trusted(assets.uplotJs)}</script>
<script>${trusted(CLIENT_JS)}</script>
</body>
</html>
`;
  return page.value;
}
