// A shift: the split of requests between a service's versions changes at runtime, in every
// caller's sidecar at once, without a reload (an operator's progressive-delivery step, or a
// rollback). Each caller's current weights are read first and put back on revert, so a shift
// that ends restores whatever was in force before it: the policy's split, or an earlier shift's.
import { splitWeights } from "../dataplane/split-weights.js";
import type { DataPlane } from "../dataplane/types.js";
import type { StartedPod } from "../runtime/topology.js";
import { applyAll, type FaultInjector, type InjectionContext } from "./injector.js";
import { kindFields } from "./kinds.js";
import { faultPods } from "./targets.js";

type Weights = { index: number; weight: number }[];

export const shiftInjector: FaultInjector<"shift"> = {
  ...kindFields("shift"),
  deadMan: "none needed: it changes only weights in the run's own sidecars, which go with the topology",
  determinism: "each caller's sidecar balances by the weights with its own algorithm; which request goes where depends on timing",
  // What the shift is about: the target's replicas (it is installed in their callers' sidecars).
  pods: (fault) => faultPods(fault),
  leadMs: () => 0,
  async apply(fault, ctx) {
    const routes = routingApi(ctx.dataPlane);
    const replicas = ctx.pods.filter((p) => p.plan.service === fault.target).sort((a, b) => a.plan.index - b.plan.index);
    const weights = splitWeights(replicas.map((p) => ({ version: p.plan.version })), fault.attributes.split).map((weight, i) => ({ index: replicas[i]!.plan.index, weight }));
    const split = Object.entries(fault.attributes.split).map(([v, s]) => `${v} ${Math.round(s * 1000) / 10}%`).join(", ");
    const steps = callersOf(fault.target, ctx).map((caller) => {
      let before: Weights | null = null;
      return {
        pod: caller.plan.id,
        apply: async () => {
          before = await routes.getWeights(caller.admin, fault.target, weights.map((w) => w.index));
          await routes.setWeights(caller.admin, fault.target, weights);
          return `${caller.plan.id}: calls to ${fault.target} split ${split} (weights ${weights.map((w) => `r${w.index}=${w.weight}`).join(" ")}, were ${before.map((w) => w.weight).join("/")})`;
        },
        undo: async () => {
          if (before) await routes.setWeights(caller.admin, fault.target, before);
        },
      };
    });
    return applyAll(steps);
  },
};

/** The pods whose sidecars route calls to `service`. */
function callersOf(service: string, ctx: InjectionContext): StartedPod[] {
  return ctx.pods.filter((p) => p.plan.sidecar.resolves.includes(`${service}-0`));
}

function routingApi(dataPlane: DataPlane): Required<Pick<DataPlane, "getWeights" | "setWeights">> {
  if (!dataPlane.getWeights || !dataPlane.setWeights) throw new Error(`the ${dataPlane.name} data plane cannot change a split at runtime`);
  return { getWeights: dataPlane.getWeights.bind(dataPlane), setWeights: dataPlane.setWeights.bind(dataPlane) };
}

