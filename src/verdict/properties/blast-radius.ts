// blast_radius: how many users one version can hurt — the share of client requests that failed
// because of that version (failure attribution blamed one of its pods: the callee at the deepest
// hop that failed) while a fault was on, against `max`. A 10% canary aborting every request
// without retries hurts about 10% of the users; retries to another replica bring it near 0.
//
// The span is the fault's (`fault`, or the first fault on the target, one acting on the version's
// replicas first), else the whole load. Client requests and their failures are counted by the
// client's 100 ms slots the span overlaps, failures blamed on the version by their start in the
// same slots.
import { faultSpan } from "../../faults/span.js";
import type { PropertyCheck } from "../../scenario/types.js";
import { errorOutcome, findFault, ms, paramsOf, pct, round, spanEvidence, type PropertyContext, type PropertyOutcome } from "./context.js";
import { isShift } from "./shifts.js";
import { minimumTries } from "./slow-replica-share.js";

export function blastRadius(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const name = params.target!.service;
  const max = params.max!;
  const service = ctx.scenario.services.find((s) => s.name === name);
  if (!service) return errorOutcome(`no service ${name}`);
  const versions = service.versions ?? [];
  if (versions.length === 0) return errorOutcome(`${name} has no versions (services.${name}.versions): there is no version to blame`, { target: name });
  const version = versions.find((v) => v.name === params.version);
  if (!version) return errorOutcome(`${name} has no version "${params.version}"; its versions: ${versions.map((v) => v.name).join(", ")}`, { target: name });
  if (params.fault !== undefined && !findFault(ctx, params.fault)) return errorOutcome(`fault "${params.fault}" is not one of the run's faults`);
  if (!ctx.blamed) return errorOutcome("failure attribution did not run (see the run's errors), so no failure can be put down to a version");

  const onTarget = ctx.scenario.faults.filter((f) => f.target === name && !isShift(f));
  const faultName = params.fault ?? (onTarget.find((f) => f.replicas.some((i) => version.replicas.includes(i))) ?? onTarget[0])?.name;
  const fault = faultName === undefined ? null : findFault(ctx, faultName);
  const span = fault ? faultSpan(fault.record) : { start: 0, end: ctx.loadDurationMs, source: "the whole load" };

  // Whole client slots: the span's requests and failures, and the failures blamed in them.
  const slot = ctx.series.slotMs;
  const first = Math.max(0, Math.floor(span.start / slot));
  const last = Math.min(ctx.series.requests.length, Math.ceil(span.end / slot));
  let requests = 0;
  let failed = 0;
  for (let i = first; i < last; i++) {
    requests += ctx.series.requests[i] ?? 0;
    failed += ctx.series.errors[i] ?? 0;
  }
  const counted = { start: first * slot, end: last * slot };
  const pods = new Set(version.replicas.map((i) => `${name}-${i}`));
  let examined = 0;
  let blamed = 0;
  const byPod: Record<string, number> = {};
  const byCause: Record<string, number> = {};
  for (const b of ctx.blamed) {
    if (b.startMs < counted.start || b.startMs >= counted.end) continue;
    examined++;
    if (b.pod === null || !pods.has(b.pod)) continue;
    blamed++;
    byPod[b.pod] = (byPod[b.pod] ?? 0) + 1;
    const cause = b.fault ? `${b.cause}:${b.fault}` : b.cause;
    byCause[cause] = (byCause[cause] ?? 0) + 1;
  }
  // Failures past attribution's limit on kept ids were counted, not examined: any might be the version's.
  const notExamined = Math.max(0, failed - examined);

  const share = requests ? blamed / requests : null;
  const needed = minimumTries(max);
  const during = fault ? `while fault ${fault.record.name} was on (${ms(span.end - span.start)})` : "over the whole load";
  const evidence: Record<string, unknown> = {
    target: name,
    version: version.name,
    pods: [...pods],
    fault: fault?.record.name ?? null,
    span: spanEvidence(span),
    counted: { ...counted, slotMs: slot },
    requests,
    failed,
    failedShare: requests ? round(failed / requests) : null,
    blamedOnVersion: blamed,
    share: share === null ? null : round(share),
    byPod,
    byCause,
    notExamined,
    max,
    minimumRequests: needed,
    source: "client requests and failures: the client's 100 ms series; blame: failure attribution (the callee pod at the deepest hop that failed)",
  };
  const base = { unit: "fraction", threshold: max, dependsOn: fault ? [fault.record.name] : ("all" as const), ...(fault ? { window: `fault:${fault.record.name}` } : {}) };
  if (requests < needed) {
    return { ...base, status: "inconclusive", observed: share, evidence, reason: `a share against max ${pct(max)} needs at least ${needed} client requests; there were ${requests} ${during}` };
  }
  evidence.summary = `${blamed} of ${requests} client requests (${pct(share!)}) failed because of ${name} ${version.name} ${during}; ${failed} failed in all`;
  if (share! > max) return { ...base, status: "failed", observed: share, evidence, reason: null };
  if (notExamined > 0 && (blamed + notExamined) / requests > max) {
    return {
      ...base,
      status: "inconclusive",
      observed: share,
      evidence,
      reason: `${notExamined} failed requests ${during} were counted but not traced (attribution keeps the ids of the first failures only); blamed on ${version.name} they would put the share over ${pct(max)}`,
    };
  }
  return { ...base, status: "passed", observed: share, evidence, reason: null };
}
