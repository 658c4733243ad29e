// A compose service's ports, and what it says it speaks: the label meshquake.protocol, else the
// long-syntax app_protocol of the port meshquake meshes. compose's app_protocol is free text; the values
// meshquake reads are mapped, the others are located warnings. Pure.
import { error, warning, type Finding } from "./finding.js";
import type { DocPath } from "./locate.js";
import { PROTOCOLS, type Protocol } from "./protocols.js";
import { asList, asMap } from "./scenario-parts.js";
import { describeValue, quoteList } from "./wording.js";

/** compose app_protocol (case-insensitive) → meshquake's protocol. */
export const APP_PROTOCOLS: Readonly<Record<string, Protocol>> = { grpc: "grpc", http2: "http2", h2c: "http2", http: "http", "http1.1": "http" };

export const PROTOCOL_LABEL = "meshquake.protocol";

interface Stated {
  value: Protocol;
  path: DocPath;
}

export interface ComposeProtocol {
  protocol: Stated | null;
  /** True when the labels hold meshquake.protocol and nothing else, so they need no warning. */
  labelsRead: boolean;
}

export function composeProtocol(name: string, body: Record<string, unknown>, path: DocPath, port: number, findings: Finding[]): ComposeProtocol {
  const fromPorts = appProtocolOf(name, body, path, port, findings);
  const label = labelOf(body.labels, [...path, "labels"], findings);
  if (label.stated !== null && fromPorts !== null && label.stated.value !== fromPorts.value) {
    findings.push(
      warning(label.stated.path, `${PROTOCOL_LABEL} ${label.stated.value} differs from app_protocol ${fromPorts.value} of port ${port}; the label is used`),
    );
  }
  return { protocol: label.stated ?? fromPorts, labelsRead: label.only };
}

/** The app_protocol of the meshed port's entries (the first, if they differ); the other ports' are reported when they differ. */
function appProtocolOf(name: string, body: Record<string, unknown>, path: DocPath, port: number, findings: Finding[]): Stated | null {
  const entries = (["expose", "ports"] as const).flatMap((key) =>
    asList(body[key]).flatMap((entry, i) => {
      const raw = typeof entry === "object" && entry !== null && !Array.isArray(entry) ? (entry as Record<string, unknown>).app_protocol : undefined;
      return raw === undefined ? [] : [{ raw, at: [...path, key, i, "app_protocol"] as DocPath, port: containerPortOf(entry) }];
    }),
  );
  let chosen: Stated | null = null;
  const elsewhere: Array<Stated & { port: number | null }> = [];
  for (const { raw, at, port: entryPort } of entries) {
    const value = APP_PROTOCOLS[String(raw).toLowerCase()];
    if (value === undefined) {
      findings.push(warning(at, `app_protocol ${describeValue(raw)} is not imported: meshquake reads ${quoteList(Object.keys(APP_PROTOCOLS))}`));
    } else if (entryPort !== port) {
      elsewhere.push({ value, path: at, port: entryPort });
    } else if (chosen === null) {
      chosen = { value, path: at };
    } else if (chosen.value !== value) {
      findings.push(warning(at, `app_protocol ${value} is not imported: an earlier entry for port ${port} says ${chosen.value}, which is`));
    }
  }
  for (const other of elsewhere) {
    if (other.value === (chosen?.value ?? "http")) continue;
    findings.push(
      warning(other.path, `app_protocol ${other.value} is not imported: it is for port ${other.port}, and meshquake meshes "${name}" on port ${port} only`),
    );
  }
  return chosen;
}

/** labels (a map or a list of key=value): meshquake.protocol, which must be one of meshquake's protocols. */
function labelOf(raw: unknown, path: DocPath, findings: Finding[]): { stated: Stated | null; only: boolean } {
  const entries: Array<[string, unknown, DocPath]> = Array.isArray(raw)
    ? raw.map((item, i): [string, unknown, DocPath] => {
        const text = String(item);
        const eq = text.indexOf("=");
        return eq === -1 ? [text, undefined, [...path, i]] : [text.slice(0, eq), text.slice(eq + 1), [...path, i]];
      })
    : typeof raw === "object" && raw !== null
      ? Object.entries(raw).map(([k, v]): [string, unknown, DocPath] => [k, v, [...path, k]])
      : [];
  const found = entries.find(([key]) => key === PROTOCOL_LABEL);
  if (found === undefined) return { stated: null, only: false };
  const only = entries.length === 1;
  const [, value, at] = found;
  if (typeof value === "string" && (PROTOCOLS as readonly string[]).includes(value)) return { stated: { value: value as Protocol, path: at }, only };
  findings.push(error(at, `expected one of ${quoteList(PROTOCOLS)}, found ${describeValue(value)}`));
  return { stated: null, only };
}

/** "8080", 8080, "127.0.0.1:8080:80/tcp", "8000-8010", { target: 80 } → the container port (first of a range). */
export function containerPortOf(entry: unknown): number | null {
  if (typeof entry === "number") return Number.isInteger(entry) && entry > 0 && entry < 65536 ? entry : null;
  if (typeof entry === "object" && entry !== null) return containerPortOf(asMap(entry).target);
  if (typeof entry !== "string") return null;
  const last = entry.split(":").at(-1) ?? "";
  const match = /^(\d+)(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/.exec(last);
  if (!match || entry.endsWith("/udp")) return null;
  const port = Number(match[1]);
  return port > 0 && port < 65536 ? port : null;
}
