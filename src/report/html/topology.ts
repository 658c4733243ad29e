// The topology as an inline SVG: services as boxes (with replica counts), calls as arrows
// laid out left to right from the load generator, each arrow coloured by the error share
// the caller saw on that edge.
import type { RunReport } from "../../model/run-report.js";
import { formatCount, pagePercent, pageRatio } from "../format-number.js";
import { errorShare } from "./tallies.js";
import { html, type SafeHtml } from "./html.js";

export type EdgeHealth = "none" | "ok" | "low" | "warn" | "bad";

/** Buckets of error share, shared by the arrows, the legend and the edge table. */
export function edgeHealth(share: number | null): EdgeHealth {
  if (share === null) return "none";
  if (share < 0.001) return "ok";
  if (share < 0.01) return "low";
  if (share < 0.05) return "warn";
  return "bad";
}

export const EDGE_COLOURS: Record<EdgeHealth, string> = {
  none: "#8c959f",
  ok: "#1a7f37",
  low: "#7c8b12",
  warn: "#bf8700",
  bad: "#cf222e",
};

export const EDGE_LEGEND: readonly [EdgeHealth, string][] = [
  ["ok", "< 0.1% errors"],
  ["low", "0.1–1%"],
  ["warn", "1–5%"],
  ["bad", "≥ 5%"],
  ["none", "no traffic recorded"],
];

const BOX_W = 176;
const BOX_H = 50;
const GAP_X = 128;
const GAP_Y = 22;
const PAD = 16;
const CLIENT = "\u0000load";
const MAX_NAME = 22;

interface Node {
  id: string;
  label: string;
  replicas: number | null;
  ejected: number;
  ingress: boolean;
  layer: number;
  row: number;
}

interface Link {
  from: string;
  to: string;
  requests: number | null;
  attempts: number | null;
  retries: number | null;
  statusCounts: Record<string, number> | null;
  back: boolean;
}

function truncate(name: string): string {
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name;
}

/** Layers by longest path from the roots, ignoring back edges (cycles) found by a DFS. */
function assignLayers(ids: string[], links: Link[], roots: string[]): Map<string, number> {
  const out = new Map<string, string[]>();
  for (const id of ids) out.set(id, []);
  for (const l of links) out.get(l.from)?.push(l.to);
  const state = new Map<string, "open" | "done">();
  const order: string[] = [];
  const visit = (id: string) => {
    state.set(id, "open");
    for (const next of out.get(id) ?? []) {
      const s = state.get(next);
      if (s === "open") {
        for (const l of links) if (l.from === id && l.to === next) l.back = true;
      } else if (s === undefined) visit(next);
    }
    state.set(id, "done");
    order.push(id);
  };
  for (const r of roots) if (!state.has(r)) visit(r);
  for (const id of ids) if (!state.has(id)) visit(id);
  const layer = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const id of order.reverse()) {
    for (const l of links) {
      if (l.from !== id || l.back || l.from === l.to) continue;
      layer.set(l.to, Math.max(layer.get(l.to) ?? 0, (layer.get(id) ?? 0) + 1));
    }
  }
  return layer;
}

export function renderTopology(report: RunReport): SafeHtml {
  const scenario = report.scenario;
  const nodes = new Map<string, Node>();
  const addNode = (id: string, label: string, replicas: number | null) => {
    if (!nodes.has(id)) nodes.set(id, { id, label, replicas, ejected: 0, ingress: false, layer: 0, row: 0 });
  };
  addNode(CLIENT, "load", null);
  for (const s of scenario.services) addNode(s.name, s.name, s.replicas);
  for (const e of report.edges) {
    addNode(e.from, e.from, null);
    addNode(e.to, e.to, null);
  }
  for (const r of report.replicas) {
    const n = nodes.get(r.service);
    if (n && r.ejections.length) n.ejected++;
  }
  const ingress = nodes.get(scenario.load.target);
  if (ingress) ingress.ingress = true;

  const links: Link[] = [];
  const linkKey = (from: string, to: string) => `${from}\u0000${to}`;
  const byKey = new Map<string, Link>();
  const addLink = (link: Link) => {
    const key = linkKey(link.from, link.to);
    const existing = byKey.get(key);
    if (existing) Object.assign(existing, link);
    else {
      byKey.set(key, link);
      links.push(link);
    }
  };
  for (const s of scenario.services) {
    for (const callee of s.calls) {
      addNode(callee, callee, null);
      addLink({ from: s.name, to: callee, requests: null, attempts: null, retries: null, statusCounts: null, back: false });
    }
  }
  for (const e of report.edges) {
    addLink({ from: e.from, to: e.to, requests: e.requests, attempts: e.attempts, retries: e.retries, statusCounts: e.statusCounts, back: false });
  }
  if (ingress) {
    const c = report.client;
    const ran = c.requests > 0;
    addLink({
      from: CLIENT, to: ingress.id, requests: ran ? c.requests : null, attempts: ran ? c.requests : null, retries: ran ? 0 : null,
      statusCounts: ran ? c.statusCounts : null, back: false,
    });
  }

  const ids = [...nodes.keys()];
  const hasInbound = new Set(links.map((l) => l.to));
  const roots = [CLIENT, ...ids.filter((id) => id !== CLIENT && !hasInbound.has(id))];
  const layers = assignLayers(ids, links, roots);
  const columns: Node[][] = [];
  for (const n of nodes.values()) {
    n.layer = layers.get(n.id) ?? 0;
    (columns[n.layer] ??= []).push(n);
  }
  // Order each column by the mean row of its callers, to keep arrows from crossing.
  columns.forEach((col, c) => {
    if (c > 0) {
      const centre = (n: Node) => {
        const rows = links.filter((l) => l.to === n.id && !l.back).map((l) => nodes.get(l.from)?.row ?? 0);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.MAX_SAFE_INTEGER;
      };
      const keyed = col.map((n, i) => ({ n, k: centre(n), i }));
      keyed.sort((a, b) => a.k - b.k || a.i - b.i);
      col.splice(0, col.length, ...keyed.map((x) => x.n));
    }
    col.forEach((n, i) => (n.row = i));
  });
  const maxRows = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const width = PAD * 2 + columns.length * BOX_W + (columns.length - 1) * GAP_X;
  const height = PAD * 2 + 18 + maxRows * BOX_H + (maxRows - 1) * GAP_Y;
  const pos = (n: Node) => {
    const rows = columns[n.layer]?.length ?? 1;
    const offset = ((maxRows - rows) * (BOX_H + GAP_Y)) / 2;
    return { x: PAD + n.layer * (BOX_W + GAP_X), y: PAD + 18 + offset + n.row * (BOX_H + GAP_Y) };
  };

  const maxVolume = Math.max(1, ...links.map((l) => l.attempts ?? 0));
  const edgeSvg = links.map((l) => {
    const a = nodes.get(l.from);
    const b = nodes.get(l.to);
    if (!a || !b) return html``;
    const pa = pos(a);
    const pb = pos(b);
    const share = l.statusCounts ? errorShare(l.statusCounts).share : null;
    const health = edgeHealth(share);
    const amplification = l.requests && l.attempts !== null ? l.attempts / l.requests : null;
    const strokeWidth = l.attempts ? 1.5 + (3 * Math.log10(1 + l.attempts)) / Math.log10(1 + maxVolume) : 1.5;
    let d: string;
    let mid: { x: number; y: number };
    if (l.back || b.layer <= a.layer) {
      // Back edge or same column: arc over the top of both boxes.
      const x1 = pa.x + BOX_W / 2;
      const x2 = pb.x + BOX_W / 2 + (x1 === pb.x + BOX_W / 2 ? 24 : 0);
      const top = Math.min(pa.y, pb.y) - 16;
      d = `M${x1},${pa.y} C${x1},${top} ${x2},${top} ${x2},${pb.y - 2}`;
      mid = { x: (x1 + x2) / 2, y: top + 4 };
    } else {
      const x1 = pa.x + BOX_W;
      const y1 = pa.y + BOX_H / 2;
      const x2 = pb.x - 2;
      const y2 = pb.y + BOX_H / 2;
      const dx = Math.max(40, (x2 - x1) / 2);
      d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
      mid = { x: (x1 + 3 * (x1 + dx) + 3 * (x2 - dx) + x2) / 8, y: (y1 + 3 * y1 + 3 * y2 + y2) / 8 };
    }
    const fromLabel = a.id === CLIENT ? "load generator" : a.label;
    const tip = [
      `${fromLabel} → ${b.label}`,
      l.requests === null ? "no traffic recorded" : `${formatCount(l.requests)} requests`,
      l.attempts !== null && a.id !== CLIENT ? `${formatCount(l.attempts)} attempts (${formatCount(l.retries ?? 0)} retries)` : null,
      share !== null ? `${pagePercent(share)} errors` : null,
      l.statusCounts && Object.keys(l.statusCounts).length
        ? `status: ${Object.entries(l.statusCounts).map(([k, v]) => `${k}×${formatCount(v)}`).join(", ")}`
        : null,
    ].filter((x): x is string => x !== null).join("\n");
    const showLabel = share !== null && (share >= 0.001 || (amplification !== null && amplification >= 1.05));
    const label = [
      share !== null && share >= 0.001 ? `${pagePercent(share)} err` : null,
      amplification !== null && amplification >= 1.05 ? pageRatio(amplification) : null,
    ].filter(Boolean).join(" · ");
    return html`<g class="edge edge-${health}" data-from="${fromLabel}" data-to="${b.label}"><title>${tip}</title><path d="${d}" fill="none" stroke="${EDGE_COLOURS[health]}" stroke-width="${strokeWidth.toFixed(2)}"${health === "none" ? html` stroke-dasharray="5 4"` : html``} marker-end="url(#mq-arrow-${health})"/>${showLabel ? html`<text class="edge-label" x="${mid.x.toFixed(1)}" y="${(mid.y - 5).toFixed(1)}" text-anchor="middle" fill="${EDGE_COLOURS[health]}">${label}</text>` : html``}</g>`;
  });

  const nodeSvg = [...nodes.values()].map((n) => {
    const p = pos(n);
    if (n.id === CLIENT) {
      const rate = `${formatCount(scenario.load.rate)} req/s`;
      return html`<g class="node node-client"><title>load generator: ${rate}, ${formatCount(scenario.load.connections)} connections</title><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="${BOX_H / 2}"/><text x="${p.x + BOX_W / 2}" y="${p.y + 21}" text-anchor="middle" class="node-name">load</text><text x="${p.x + BOX_W / 2}" y="${p.y + 38}" text-anchor="middle" class="node-sub">${rate}</text></g>`;
    }
    const replicas = n.replicas === null ? "replicas unknown" : `${n.replicas} ${n.replicas === 1 ? "replica" : "replicas"}`;
    const dots = n.replicas === null ? [] : Array.from({ length: Math.min(n.replicas, 8) }, (_, i) =>
      html`<circle cx="${p.x + BOX_W - 14 - i * 10}" cy="${p.y + 34}" r="3.5"/>`);
    return html`<g class="node${n.ingress ? " node-ingress" : ""}" data-service="${n.label}"><title>${n.label}\n${replicas}${n.ingress ? "\ningress (load target)" : ""}${n.ejected ? `\n${n.ejected} replica(s) ejected during the run` : ""}</title><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="6"/><text x="${p.x + 10}" y="${p.y + 20}" class="node-name">${truncate(n.label)}</text><text x="${p.x + 10}" y="${p.y + 38}" class="node-sub">×${n.replicas ?? "?"}${n.ejected ? html`<tspan class="node-ejected"> · ${n.ejected} ejected</tspan>` : html``}</text><g class="replica-dots">${dots}</g></g>`;
  });

  const markers = (Object.keys(EDGE_COLOURS) as EdgeHealth[]).map((h) =>
    html`<marker id="mq-arrow-${h}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${EDGE_COLOURS[h]}"/></marker>`);
  const legend = EDGE_LEGEND.map(([h, text]) =>
    html`<span class="legend-item"><span class="legend-line legend-${h}" style="border-color:${EDGE_COLOURS[h]}"></span>${text}</span>`);

  return html`<div class="topology-scroll"><svg class="topology" role="img" aria-label="Service topology" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><defs>${markers}</defs>${edgeSvg}${nodeSvg}</svg></div><p class="legend">Arrow colour: share of the caller's requests that ended in an error (not 2xx/3xx). Width: volume. Label: error share and attempts per request (retries).<br>${legend}</p>`;
}
