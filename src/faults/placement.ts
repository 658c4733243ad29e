// Where a fault sits decides whether the mesh can react to it. meshquake injects faults on the
// callee's inbound side (server-side), so the caller's sidecar sees the failure and its retries,
// timeouts and breakers act. Istio's well-known gotcha is the opposite placement: a fault injected
// in the caller's own outbound route is never retried by that same proxy. These warnings name the
// scenarios that end up with a fault no caller's proxy stands in front of, or one that can never
// match. Pure; the plan prints them.
import type { ResolvedScenario } from "../scenario/types.js";
import type { PlanWarning, WarningId } from "../scenario/warnings.js";
import { FAULT_KIND_FACTS } from "./kinds.js";
import { speaksH2 } from "../scenario/protocols.js";

/** Headers the built-in fixture passes on to the services it calls (fixtures/service/server.js). */
export function fixtureForwards(header: string): boolean {
  const h = header.toLowerCase();
  return h === "x-request-id" || h.startsWith("x-mq-");
}

export function placementWarnings(scenario: ResolvedScenario): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  const ingress = scenario.load.target;
  const callers = (service: string) => scenario.services.filter((s) => s.calls.includes(service)).map((s) => s.name);
  for (const [i, f] of scenario.faults.entries()) {
    const warn = (id: WarningId, field: string, text: string) => warnings.push({ id, path: ["faults", i, field], text });
    if (FAULT_KIND_FACTS[f.kind].actsAt === "target" && f.target === ingress) {
      const downstream = scenario.services.find((s) => s.name === ingress)?.calls ?? [];
      warn(
        "fault-at-ingress",
        "target",
        `fault ${f.name}: ${f.kind} on "${ingress}", the service the load generator calls directly. No caller's ` +
          `sidecar stands in front of it, so no mesh retry, timeout or circuit breaker can react: the load ` +
          `generator sees the raw fault, as a fault placed in the caller's own proxy skips that proxy's retries. ` +
          (downstream.length
            ? `To see how the mesh reacts, target a service "${ingress}" calls (${downstream.map((d) => `"${d}"`).join(", ")}).`
            : `To see how the mesh reacts, put a meshed service in front of it.`),
      );
    }
    // The fixture passes on the headers faults match on (plan.ts, propagated); a user's app may not.
    const userCallers = callers(f.target).filter((c) => scenario.services.find((s) => s.name === c)?.image !== undefined);
    if (f.match !== null && f.target !== ingress && !fixtureForwards(f.match.header) && userCallers.length > 0) {
      const via = userCallers;
      warn(
        "match-header-not-forwarded",
        "match",
        `fault ${f.name}: matches header "${f.match.header}", but requests reach "${f.target}" from ` +
          `${via.map((c) => `"${c}"`).join(", ")}, your own ${via.length > 1 ? "apps" : "app"}: unless ${via.length > 1 ? "they pass" : "it passes"} ` +
          `"${f.match.header}" on to its calls, no request will match and the fault will not land.`,
      );
    }
    const protocol = scenario.services.find((s) => s.name === f.target)?.protocol;
    if (f.kind === "reset" && speaksH2(protocol)) {
      warn(
        "h2-reset-not-retried",
        "kind",
        `fault ${f.name}: a reset on "${f.target}", which speaks ${protocol}: HAProxy 2.6 ends the HTTP/2 stream, and the callers' ` +
          `sidecars pass the end on to their app (RST_STREAM REFUSED_STREAM, which a gRPC client reads as UNAVAILABLE) without ` +
          `a retry and without an access-log line, so retryOn reset does not hide it and attribution blames the caller's app.`,
      );
    }
  }
  return warnings;
}
