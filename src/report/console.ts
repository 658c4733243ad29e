// The console summary: verdict first, then the client's view, each check beside its threshold
// (k6 style: the expression, what was observed, what was allowed), then the faults. Plain text;
// ANSI colour only when asked for, so CI logs and snapshots stay readable.
import { attributionLines } from "./attribution-lines.js";
import { formatLatencyUs, formatMs, formatPercent, formatThreshold, formatValue } from "./format-number.js";
import { safeStrings } from "../util/safe-text.js";
import type { CheckResult, CheckStatus, RunReport } from "../model/run-report.js";

export interface ConsoleOptions {
  color: boolean;
}

type Paint = (s: string) => string;

const ANSI = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  magenta: [35, 39],
} as const;

function painter(color: boolean): (style: keyof typeof ANSI) => Paint {
  return (style) => {
    if (!color) return (s) => s;
    const [open, close] = ANSI[style];
    return (s) => `\u001b[${open}m${s}\u001b[${close}m`;
  };
}

const STATUS_STYLE: Record<CheckStatus, keyof typeof ANSI> = {
  passed: "green",
  failed: "red",
  inconclusive: "yellow",
  error: "magenta",
};

export function renderConsoleSummary(written: RunReport, options: ConsoleOptions): string {
  // Names, reasons and errors come from the scenario and the apps: no raw control character reaches the terminal.
  const report = safeStrings(written);
  const paint = painter(options.color);
  const status = (s: CheckStatus): Paint => paint(STATUS_STYLE[s]);
  const lines: string[] = [];

  lines.push(
    `${paint("bold")("meshquake")}  ${paint("bold")(report.scenario.name)}  ` +
      `${paint("bold")(status(report.verdict)(report.verdict.toUpperCase()))}  exit ${report.exitCode}  run ${report.runId}`,
  );

  const c = report.client;
  const errorRate = c.requests > 0 ? formatPercent(c.errors / c.requests) : "n/a";
  lines.push(
    `client  ${c.requests} requests  ${c.errors} errors (${errorRate})  ` +
      `p50 ${formatLatencyUs(c.latencyUs.p50)}  p99 ${formatLatencyUs(c.latencyUs.p99)}`,
  );
  if (report.load && (report.load.unfinished > 0 || report.load.dropped > 0 || report.load.aborted)) {
    const notes = [
      report.load.aborted ? `load stopped early at ${formatMs(report.load.durationMs)}` : null,
      report.load.unfinished > 0 ? `${report.load.unfinished} requests still in flight at the end (not counted)` : null,
      report.load.dropped > 0 ? `${report.load.dropped} requests dropped on connections the server closed` : null,
    ].filter((n) => n !== null);
    lines.push(paint("dim")(`        ${notes.join("; ")}`));
  }

  lines.push(...loadLines(report, paint));

  if (report.checks.length > 0) {
    lines.push("");
    const rows = report.checks.map((check) => ({
      cells: [check.name, observedCell(check), thresholdCell(check), check.status],
      paints: [undefined, undefined, undefined, status(check.status)],
      note: check.reason !== null && check.status !== "passed" && check.status !== "failed" ? check.reason : null,
    }));
    lines.push(...table(["check", "observed", "threshold", "verdict"], rows, paint("dim")));
  } else {
    lines.push("", "no checks: nothing to judge");
  }

  if (report.faults.length > 0) {
    lines.push("");
    const rows = report.faults.map((f) => ({
      cells: [
        f.name,
        f.kind,
        f.target + (f.replicas.length > 0 ? `[${f.replicas.join(",")}]` : ""),
        f.appliedAt === null ? "not applied" : formatMs(f.appliedAt),
        f.revertedAt === null ? "-" : formatMs(f.revertedAt),
        `${f.observedPercent === null ? "n/a" : formatPercent(f.observedPercent)} / ${formatPercent(f.configuredPercent)}`,
      ],
      paints: [undefined, undefined, undefined, f.appliedAt === null ? paint("yellow") : undefined],
      note: null,
    }));
    lines.push(...table(["fault", "kind", "target", "applied", "reverted", "affected / configured"], rows, paint("dim")));
  }

  const why = attributionLines(report.attribution);
  if (why.length > 0) lines.push("", paint("bold")("why requests failed"), ...why);

  if (report.errors.length > 0) {
    lines.push("", paint("magenta")("harness errors"));
    for (const e of report.errors) lines.push(`  [${e.stage}] ${e.message}`);
  }
  if (report.warnings.length > 0) {
    lines.push("", paint("yellow")("warnings"));
    for (const w of report.warnings) lines.push(`  ${w}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * What the generator offered, window by window: intended against sent (and not sent), and for an
 * open load its own lag and whether it kept its schedule. Reports from before the open model have
 * no per-window account: nothing is printed for them.
 */
function loadLines(report: RunReport, paint: (style: keyof typeof ANSI) => Paint): string[] {
  const load = report.load;
  if (!load?.windows) return [];
  const open = load.model === "open";
  const head = open
    ? `load    open model  ${load.rate ?? report.scenario.load.rate} req/s ${load.arrivals ?? "constant"}  ` +
      (load.lagUs ? `lag p50 ${formatLatencyUs(load.lagUs.p50)}  p99 ${formatLatencyUs(load.lagUs.p99)}  ` : "") +
      `${load.notSent ? `${load.notSent} not sent (maxInFlight ${load.maxInFlight})  ` : ""}` +
      `${load.keptUp === false ? paint("yellow")("generator fell behind") : "generator kept up"}`
    : `load    closed model  ${load.rate ?? report.scenario.load.rate} req/s over ${load.connections ?? report.scenario.load.connections} connections: ` +
      `sent ${load.sent ?? load.recorded} of ${load.intended ?? "?"} intended (each connection waits for its answer)`;
  const rows = report.windows
    .map((w) => ({ w, g: load.windows![w.name] }))
    .filter((x): x is { w: (typeof report.windows)[number]; g: NonNullable<typeof x.g> } => x.g !== undefined)
    .map(({ w, g }) => {
      const share = g.intended > 0 ? g.sent / g.intended : 1;
      const state = open
        ? g.keptUp === false
          ? `behind: ${g.reason ?? "it fell behind"}`
          : "kept up"
        : share < 0.99
          ? `backed off to ${formatPercent(share)} of the rate`
          : "";
      return {
        cells: [w.name, String(g.intended), String(g.sent), ...(open ? [String(g.notSent), g.lagUs ? formatLatencyUs(g.lagUs.p99) : "-"] : []), state],
        paints: [undefined, undefined, undefined, ...(open ? [undefined, undefined] : []), g.keptUp === false || (!open && share < 0.99) ? paint("yellow") : undefined],
        note: null,
      };
    });
  const header = ["window", "intended", "sent", ...(open ? ["not sent", "lag p99"] : []), open ? "generator" : ""];
  return [head, ...table(header, rows, paint("dim")).map((l) => `  ${l}`)];
}

interface Row {
  cells: string[];
  paints: (Paint | undefined)[];
  /** Printed under the row (why a check was inconclusive or could not be evaluated). */
  note: string | null;
}

function table(header: string[], rows: Row[], dim: Paint): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r.cells[i] ?? "").length)));
  const render = (cells: string[], paints: (Paint | undefined)[] = []): string =>
    cells
      .map((cell, i) => {
        // Pad before painting so escape codes never count towards a column's width.
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
        return paints[i]?.(padded) ?? padded;
      })
      .join("  ")
      .trimEnd();
  const out = [dim(render(header))];
  for (const row of rows) {
    out.push(render(row.cells, row.paints));
    if (row.note !== null) out.push(dim(`    reason: ${row.note}`));
  }
  return out;
}

function observedCell(check: CheckResult): string {
  return check.observed === null ? "-" : formatValue(check.observed, check.unit);
}

function thresholdCell(check: CheckResult): string {
  if (check.threshold === null) return "-";
  const value = formatThreshold(check.threshold, check.unit);
  const op = check.expression?.match(/<=|>=|<|>/)?.[0];
  return op === undefined ? value : `${op} ${value}`;
}
