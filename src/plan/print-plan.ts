import { describeLoad } from "./describe-load.js";
import type { ExecutionPlan } from "./types.js";

/** The dry run `meshquake plan` prints: pods, rendered sidecar configs, windows, timeline, warnings. */
export function printPlan(plan: ExecutionPlan, opts: { configs: boolean } = { configs: true }): string {
  const s = plan.scenario;
  const out: string[] = [];
  out.push(`Plan for ${s.name} (run ${plan.runId}, data plane ${s.dataPlane}, seed ${s.seed})`);
  out.push(`image ${plan.image}, network ${plan.network}`);
  out.push("");
  out.push("Pods (a proxy container: network namespace, interception rules and sidecar; the app joins it):");
  for (const p of plan.pods) {
    const calls = s.services.find((x) => x.name === p.service)?.calls ?? [];
    const app = p.app.kind === "user" ? ` image ${p.app.image}${p.app.startAfter.length ? ` after ${p.app.startAfter.join(", ")}` : ""}` : "";
    out.push(
      `  ${p.id.padEnd(20)} app :${p.app.port}${app}${calls.length ? ` calls ${calls.join(", ")}` : ""}` +
        `${p.publishInbound ? "  [ingress, published on 127.0.0.1]" : ""}`,
    );
  }
  out.push("");
  out.push(`Load: ${describeLoad(s.load)}, for ${s.load.durationMs} ms against ${s.load.target}`);
  out.push("");
  out.push("Windows (ms from the start of load):");
  for (const w of plan.windows) out.push(`  ${w.name.padEnd(28)} ${w.start} .. ${w.end}`);
  out.push("");
  out.push("Fault timeline:");
  if (plan.timeline.length === 0) out.push("  (none)");
  for (const e of plan.timeline) {
    const f = s.faults.find((x) => x.name === e.fault)!;
    const detail = e.action === "apply" ? `  ${f.kind} on ${f.target}[${f.replicas.join(",")}] ${Math.round(f.probability * 1000) / 10}%` : "";
    out.push(`  ${String(e.atMs).padStart(7)} ms  ${e.action.padEnd(6)} ${e.fault}${detail}`);
  }
  out.push("");
  out.push("Checks:");
  for (const c of s.checks) out.push(`  ${c.name}`);
  const { shown, acknowledged } = plan.warningDetails;
  if (shown.length) {
    out.push("");
    out.push("Warnings:");
    for (const w of shown) out.push(`  warning: ${w.text} [${w.id}]`);
  }
  if (acknowledged.length) {
    out.push("");
    out.push(`Acknowledged in the scenario (${acknowledged.length}): ${[...new Set(acknowledged.map((w) => w.id))].join(", ")}`);
  }
  if (opts.configs) {
    const seen = new Set<string>();
    for (const p of plan.pods) {
      for (const f of p.sidecar.files) {
        // Replicas of one service render the same config but for their own index: show one of each.
        if (seen.has(p.service)) continue;
        out.push("");
        out.push(`--- ${p.id}: ${f.path}`);
        out.push(f.content.trimEnd());
      }
      seen.add(p.service);
    }
  }
  return out.join("\n") + "\n";
}
