// A sidecar's counters as a table, from the runtime API's `show stat` (CSV, one row per frontend,
// backend and server): what `meshquake up` serves as each sidecar's stats page.
import type { AdminChannel, ProxyStats } from "../types.js";

/** The columns worth a glance, in this order, with the name shown for each. */
const SHOWN: readonly (readonly [string, string])[] = [
  ["pxname", "proxy"],
  ["svname", "server"],
  ["status", "status"],
  ["weight", "weight"],
  ["scur", "in flight"],
  ["qcur", "queued"],
  ["stot", "sessions"],
  ["req_tot", "requests"],
  ["hrsp_2xx", "2xx"],
  ["hrsp_4xx", "4xx"],
  ["hrsp_5xx", "5xx"],
  ["econ", "conn errors"],
  ["eresp", "resp errors"],
  ["wretr", "retries"],
  ["wredis", "redispatches"],
  ["check_status", "check"],
  ["lastchg", "s since change"],
];

/** `show stat` → the shown columns, every row; a header it does not recognise is an error. */
export function parseShowStat(text: string): ProxyStats {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0];
  if (header === undefined || !header.startsWith("# ")) throw new Error(`show stat: expected a "# pxname,..." header, got ${JSON.stringify(text.slice(0, 80))}`);
  const names = header.slice(2).split(",");
  const picked = SHOWN.filter(([name]) => names.includes(name));
  const at = picked.map(([name]) => names.indexOf(name));
  return {
    columns: picked.map(([, label]) => label),
    rows: lines.slice(1).map((line) => {
      const cells = line.split(",");
      return at.map((i) => cells[i] ?? "");
    }),
    raw: text,
  };
}

export async function haproxyStats(admin: AdminChannel): Promise<ProxyStats> {
  return parseShowStat(await admin.send("show stat"));
}
