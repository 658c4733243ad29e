// Why client requests failed, in a few lines: the causes by count, where each was decided, and
// what the last try hit. Shared by the console and Markdown reporters.
import type { FailureAttribution } from "../model/run-report.js";

export function attributionLines(a: FailureAttribution | undefined): string[] {
  if (!a || a.failed === 0) return [];
  const byCount = (m: Record<string, number>) => Object.entries(m).sort((x, y) => y[1] - x[1]);
  const lines = [`${a.failed} failed requests, ${a.traced} traced through the mesh's logs${a.notKept ? ` (${a.notKept} only counted)` : ""}:`];
  for (const [cause, n] of byCount(a.byCause)) {
    const edges = a.byEdge.filter((e) => (e.byCause[cause] ?? 0) > 0).map((e) => `${e.from} → ${e.to} ${e.byCause[cause]}`);
    lines.push(`  ${String(n).padStart(6)}  ${cause}${edges.length ? `  at ${edges.join(", ")}` : ""}`);
  }
  const lastTry = byCount(a.byLastTry);
  if (lastTry.length) lines.push(`  last try hit: ${lastTry.map(([what, n]) => `${what} ${n}`).join(", ")}`);
  return lines;
}
