// Each sidecar's stats page for a held-up mesh (`meshquake up`, `mesh.statsUrl`): a small HTTP
// server on 127.0.0.1 that asks a sidecar for its counters through the same runtime API the
// faults use, when the page is opened. Nothing is published from the pods and no listener is
// added to them, so the mesh under test is the mesh that runs; it works as well with a remote
// engine (the runtime API then travels through docker exec). `/` lists the pods; `/<pod>` is
// its table, refreshed every 2 s; `/<pod>.csv` is the proxy's own answer.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ProxyStats } from "../dataplane/types.js";
import { escapeHtml } from "../report/html/html.js";

export interface StatsPod {
  /** "<service>-<index>". */
  id: string;
  stats(): Promise<ProxyStats>;
}

export interface StatsPages {
  /** "http://127.0.0.1:PORT": the index; each pod's page is `${url}/<pod>`. */
  url: string;
  close(): Promise<void>;
}

const STYLE =
  "body{font:13px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}th,td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}" +
  "th{background:#f4f4f4}td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}tr.down td{color:#b00}tr.front td,tr.back td{font-weight:600}";

export async function startStatsPages(pods: readonly StatsPod[], host = "127.0.0.1"): Promise<StatsPages> {
  const byId = new Map(pods.map((p) => [p.id, p]));
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return send(res, 400, "text/plain", "bad path\n");
    }
    if (req.method !== "GET") return send(res, 405, "text/plain", "GET only\n");
    if (path === "/") return send(res, 200, "text/html", indexPage(pods.map((p) => p.id)));
    const csv = path.endsWith(".csv");
    const pod = byId.get(path.slice(1, csv ? -4 : undefined));
    if (!pod) return send(res, 404, "text/plain", `no pod ${path.slice(1)} in this mesh\n`);
    pod.stats().then(
      (stats) => (csv ? send(res, 200, "text/csv", stats.raw) : send(res, 200, "text/html", podPage(pod.id, stats))),
      (err: unknown) => send(res, 502, "text/plain", `${pod.id}: the sidecar did not answer: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" });
  res.end(body);
}

function indexPage(ids: readonly string[]): string {
  const items = ids.map((id) => `<li><a href="/${encodeURIComponent(id)}">${escapeHtml(id)}</a> (<a href="/${encodeURIComponent(id)}.csv">csv</a>)</li>`);
  return `<!doctype html><meta charset="utf-8"><title>meshquake sidecars</title><style>${STYLE}</style><h1>Sidecars</h1><ul>${items.join("")}</ul>`;
}

/** One sidecar's table; listener and route rows in bold, servers that are not up in red. */
export function podPage(id: string, stats: ProxyStats): string {
  const server = stats.columns.indexOf("server");
  const status = stats.columns.indexOf("status");
  const rows = stats.rows.map((row) => {
    const kind = row[server] === "FRONTEND" ? "front" : row[server] === "BACKEND" ? "back" : /^(UP|OPEN|no check)/.test(row[status] ?? "") ? "" : "down";
    return `<tr class="${kind}">${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`;
  });
  return (
    `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>${escapeHtml(id)} · meshquake</title>` +
    `<style>${STYLE}</style><h1>${escapeHtml(id)}</h1><p><a href="/">all sidecars</a> · <a href="/${encodeURIComponent(id)}.csv">csv</a> · refreshed every 2 s</p>` +
    `<table><tr>${stats.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>${rows.join("")}</table>`
  );
}
