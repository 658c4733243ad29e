// Faults the sidecar applies per request through its own runtime fault table (for HAProxy:
// images/haproxy/faults.lua over the stats socket): no proxy reload, switched in milliseconds,
// and the proxy itself ignores a fault past its `until`.
import type { ResolvedFault } from "../scenario/types.js";
import { applyAll, podsById, type FaultCounters, type FaultInjector, type FaultOf } from "./injector.js";
import { kindFields, type SidecarFaultKind } from "./kinds.js";
import { faultPods } from "./targets.js";

/** Runtime faults are sent this long ahead of their start when the proxy can start them on time. */
export const RUNTIME_FAULT_LEAD_MS = 250;

const DEAD_MAN = "the sidecar stops applying it at its scheduled end by itself (the proxy's fault table carries `until`)";
const DETERMINISM =
  "seeded: each pod's sidecar draws from its own die (scenario seed, pod, fault), so the n-th matching request " +
  "a pod sees gets the same decision on every run; which request is n-th depends on load balancing and timing, " +
  "so with several callers or connections the same decisions fall on different requests";

function runtimeInjector<K extends SidecarFaultKind>(kind: K, determinism = DETERMINISM): FaultInjector<K> {
  return {
    ...kindFields(kind),
    deadMan: DEAD_MAN,
    determinism,
    pods: (fault) => faultPods(fault),
    leadMs: (ctx) => (ctx.dataPlane.startsFaultsOnTime ? RUNTIME_FAULT_LEAD_MS : 0),
    async apply(of: FaultOf<K>, ctx, { startEpochMs, untilEpochMs }) {
      const fault: ResolvedFault = of;
      const { dataPlane } = ctx;
      if (!dataPlane.runtimeFaultKinds.has(kind)) {
        throw new Error(`the ${dataPlane.name} data plane cannot switch ${kind} faults at runtime (it switches: ${[...dataPlane.runtimeFaultKinds].join(", ")})`);
      }
      // Started by the proxy's own clock when it can; otherwise on as soon as it is set.
      const sinceEpochMs = dataPlane.startsFaultsOnTime && startEpochMs > Date.now() ? startEpochMs : undefined;
      const counters: FaultCounters = { seen: 0, hits: 0 };
      let counted = dataPlane.faultCounters !== undefined;
      const steps = podsById(ctx, faultPods(fault)).map((pod) => ({
        pod: pod.plan.id,
        apply: async () => {
          await dataPlane.applyFault(pod.admin, { fault, untilEpochMs, sinceEpochMs });
          const from = sinceEpochMs === undefined ? "now" : new Date(sinceEpochMs).toISOString();
          return `${pod.plan.id}: ${kind} set in the sidecar, on from ${from} until ${new Date(untilEpochMs).toISOString()}`;
        },
        undo: async () => {
          // Read what the proxy counted before the fault (and its counters) is deleted.
          if (counted) {
            const c = await dataPlane.faultCounters!(pod.admin, fault.name).catch(() => null);
            if (c) {
              counters.seen += c.seen;
              counters.hits += c.hits;
            } else counted = false;
          }
          await dataPlane.revertFault(pod.admin, fault);
        },
      }));
      return applyAll(steps, () => (counted ? { counters: { ...counters } } : {}));
    },
  };
}

export const abortInjector = runtimeInjector("abort");
export const delayInjector = runtimeInjector(
  "delay",
  `${DETERMINISM}; a delay range takes one more draw from the same die for its length`,
);
export const blackholeInjector = runtimeInjector("blackhole");
export const resetInjector = runtimeInjector("reset");
export const ratelimitInjector = runtimeInjector("ratelimit");
