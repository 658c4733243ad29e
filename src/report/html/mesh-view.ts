// What the mesh charts draw, derived from the report's per-second mesh series (meshTimeline):
// traffic share per replica for each service with more than one, with its ejections, and
// requests, retries and failed requests per edge. Pure; the page's script only draws it.
import type { EdgeStats, ReplicaStats, RunReport } from "../../model/run-report.js";

/** Replica colours by index: strokes and legend markers; the stacked areas use a lighter mix. */
export const REPLICA_COLOURS = ["#0969da", "#1b7c83", "#8250df", "#bf8700", "#57606a", "#2da44e", "#e85aad", "#953800"] as const;

/** Charts per group drawn open; the rest wait in a collapsed list (a wide mesh has dozens). */
export const OPEN_CHARTS = 6;

export interface ShareChart {
  /** Element id of the chart's container. */
  id: string;
  service: string;
  replicas: { index: number; stroke: string; fill: string }[];
  /** Requests reaching each replica per second, in the order of `replicas`. */
  requests: number[][];
  /** Spans (seconds) in which a replica was out of rotation for at least one caller, merged. */
  ejections: { replica: number; start: number; end: number }[];
  total: number;
  open: boolean;
}

export interface EdgeChart {
  id: string;
  from: string;
  to: string;
  requests: number[];
  retries: number[];
  errors: number[];
  totals: { requests: number; attempts: number; retries: number; errors: number; overflows: number | null };
  open: boolean;
}

export interface MeshView {
  shares: ShareChart[];
  edges: EdgeChart[];
  /** Edges with neither retries nor failed requests in any second: named, not charted. */
  quietEdges: { from: string; to: string; requests: number }[];
}

/** What the script needs of the mesh view: the series, without a single scenario string. */
export interface MeshPayload {
  shares: { id: string; replicas: ShareChart["replicas"]; requests: number[][]; ejections: ShareChart["ejections"] }[];
  edges: { id: string; requests: number[]; retries: number[]; errors: number[] }[];
}

function mix(hex: string, white: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const ch = (shift: number) => Math.round(((n >> shift) & 255) * (1 - white) + 255 * white);
  return `rgb(${ch(16)}, ${ch(8)}, ${ch(0)})`;
}

export function replicaColour(index: number): { stroke: string; fill: string } {
  const stroke = REPLICA_COLOURS[index % REPLICA_COLOURS.length] ?? "#57606a";
  return { stroke, fill: mix(stroke, 0.62) };
}

/** Union of ejection spans (ms → s); an ejection still open at the end lasts until `endS`. */
export function mergedEjections(ejections: ReplicaStats["ejections"], endS: number): { start: number; end: number }[] {
  const spans = ejections
    .map((e) => ({ start: e.at / 1000, end: e.until === null ? endS : e.until / 1000 }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const s of spans) {
    const last = out.at(-1);
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Overflows (requests the caller's circuit breaker refused), when the report knows them. */
export function overflowsOf(e: EdgeStats): number | null {
  return e.terminations ? (e.terminations.overflow ?? 0) : null;
}

/** Services a fault acts on: its target and, for a partition, every endpoint named. */
function faultedServices(report: RunReport): Set<string> {
  const out = new Set(report.faults.map((f) => f.target));
  for (const f of report.scenario.faults) {
    if (f.kind === "partition") for (const b of f.attributes.between) out.add(b.service);
  }
  return out;
}

function openFirst<T extends { open: boolean }>(charts: T[], rank: (c: T) => number): T[] {
  const order = charts.map((c, i) => ({ c, i })).sort((a, b) => rank(b.c) - rank(a.c) || a.i - b.i);
  order.forEach(({ c }, k) => (c.open = k < OPEN_CHARTS));
  return charts;
}

export function meshView(report: RunReport, durationS: number): MeshView | null {
  const mesh = report.meshTimeline;
  if (!mesh) return null;
  const services = [...new Set([...report.scenario.services.map((s) => s.name), ...mesh.replicas.map((r) => r.service)])];
  const faulted = faultedServices(report);

  const shares: ShareChart[] = [];
  for (const service of services) {
    const rows = mesh.replicas.filter((r) => r.service === service).sort((a, b) => a.index - b.index);
    if (rows.length < 2) continue;
    const ejections = rows.flatMap((r, k) => {
      const stats = report.replicas.find((x) => x.service === service && x.index === r.index);
      return mergedEjections(stats?.ejections ?? [], durationS).map((s) => ({ replica: k, ...s }));
    });
    shares.push({
      id: `chart-share-${shares.length}`,
      service,
      replicas: rows.map((r) => ({ index: r.index, ...replicaColour(r.index) })),
      requests: rows.map((r) => r.requests),
      ejections,
      total: rows.reduce((n, r) => n + r.requests.reduce((a, b) => a + b, 0), 0),
      open: true,
    });
  }
  // Services whose replicas were ejected or hit by a fault come first among the open charts.
  openFirst(shares, (c) => (c.ejections.length ? 2 : 0) + (faulted.has(c.service) ? 1 : 0));

  const edges: EdgeChart[] = [];
  const quietEdges: MeshView["quietEdges"] = [];
  for (const e of mesh.edges) {
    const sum = (k: "requests" | "attempts" | "retries" | "errors") => e.points.reduce((n, p) => n + p[k], 0);
    const stats = report.edges.find((x) => x.from === e.from && x.to === e.to);
    const totals = { requests: sum("requests"), attempts: sum("attempts"), retries: sum("retries"), errors: sum("errors"), overflows: stats ? overflowsOf(stats) : null };
    if (totals.retries === 0 && totals.errors === 0 && !totals.overflows) {
      quietEdges.push({ from: e.from, to: e.to, requests: totals.requests });
      continue;
    }
    const seconds = Math.max(e.points.length, ...e.points.map((p) => p.t + 1));
    const series = (k: "requests" | "retries" | "errors") => {
      const out = new Array<number>(seconds).fill(0);
      for (const p of e.points) if (p.t >= 0) out[p.t] = p[k];
      return out;
    };
    edges.push({
      id: `chart-edge-${edges.length}`,
      from: e.from,
      to: e.to,
      requests: series("requests"),
      retries: series("retries"),
      errors: series("errors"),
      totals,
      open: true,
    });
  }
  // The busiest retriers and failers first: a retry storm must not hide in the collapsed list.
  edges.sort((a, b) => b.totals.retries + b.totals.errors - (a.totals.retries + a.totals.errors));
  edges.forEach((c, i) => (c.id = `chart-edge-${i}`));
  openFirst(edges, () => 0);
  return { shares, edges, quietEdges };
}

export function meshPayload(view: MeshView | null): MeshPayload | null {
  if (!view) return null;
  return {
    shares: view.shares.map((s) => ({ id: s.id, replicas: s.replicas, requests: s.requests, ejections: s.ejections })),
    edges: view.edges.map((e) => ({ id: e.id, requests: e.requests, retries: e.retries, errors: e.errors })),
  };
}
