// Faults that live in a pod's network namespace: iptables rules (partition) and a tbf qdisc
// (bandwidth), installed by images/pod/fault.sh through `docker exec` in the pod's infra
// container. Each starts a dead-man timer there that removes it at the fault's scheduled end, so
// a harness killed mid-fault cannot leave it behind; removing the pod removes it too.
import type { StartedPod } from "../runtime/topology.js";
import { bandwidthRate } from "./attributes.js";
import { applyAll, podsById, type FaultInjector, type InjectionContext } from "./injector.js";
import { kindFields } from "./kinds.js";
import { FAULT_SCRIPT, execOk } from "./pod-exec.js";
import { faultPods, partitionSides } from "./targets.js";

const DEAD_MAN =
  "a timer in the pod's infra container (images/pod/fault.sh) removes it at its scheduled end; " +
  "removing the pod (`meshquake clean`) removes it too";

/** Bandwidth limits queue what exceeds the rate for at most this long, then drop it (TCP resends). */
export const TBF_LATENCY_MS = 200;
/** At least two full-size Ethernet frames, or tbf could never send one. */
const MIN_BURST_BYTES = 3028;

/** fault.sh's id for a fault: [a-z0-9], stable for the name, short enough for an iptables chain (MQF_<id>). */
export function networkFaultId(faultName: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(faultName)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0").slice(0, 12);
}

/** The tbf burst for a rate: 10 ms worth of it, at least two full frames. */
export function tbfBurstBytes(bytesPerSecond: number): number {
  return Math.max(MIN_BURST_BYTES, Math.ceil(bytesPerSecond / 100));
}

function replicasOf(ctx: InjectionContext): (service: string) => number {
  return (service) => ctx.pods.filter((p) => p.plan.service === service).length;
}

/** Pod id → IPv4 address on the run network (the proxy container owns it for the pod's whole life). */
async function podAddresses(ctx: InjectionContext, pods: StartedPod[]): Promise<Map<string, string>> {
  const entries = await Promise.all(
    pods.map(async (pod) => {
      const info = await ctx.docker.getContainer(pod.ids.proxy).inspect();
      const address = info.NetworkSettings.Networks?.[ctx.network]?.IPAddress;
      if (!address) throw new Error(`${pod.plan.id} has no address on network ${ctx.network}`);
      return [pod.plan.id, address] as const;
    }),
  );
  return new Map(entries);
}

function script(ctx: InjectionContext, pod: StartedPod, what: string, args: string[]): Promise<string> {
  return execOk(ctx.docker, pod.ids.proxy, `${pod.plan.id}: ${what}`, ["sh", FAULT_SCRIPT, ...args]);
}

export const partitionInjector: FaultInjector<"partition"> = {
  ...kindFields("partition"),
  deadMan: DEAD_MAN,
  determinism: "not per request: every packet between the two sides is dropped while it is on",
  pods: (fault) => faultPods(fault),
  leadMs: () => 0,
  async apply(fault, ctx, { untilEpochMs }) {
    const { direction } = fault.attributes;
    const [near, far] = partitionSides(fault, replicasOf(ctx));
    const id = networkFaultId(fault.name);
    const addresses = await podAddresses(ctx, podsById(ctx, [...new Set([...near, ...far])]));
    const steps = podsById(ctx, near).flatMap((pod) => {
      const peers = far.filter((p) => p !== pod.plan.id);
      if (peers.length === 0) return [];
      const ips = peers.map((p) => addresses.get(p)!);
      return [
        {
          pod: pod.plan.id,
          apply: async () => {
            const rules = (await script(ctx, pod, "partition", ["partition", id, String(Math.ceil(untilEpochMs)), direction, ...ips]))
              .split("\n")
              .filter((l) => l.startsWith("-A "));
            const how = direction === "both" ? "drops every packet to and from" : "drops the connections it opens to";
            return `${pod.plan.id}: ${how} ${peers.map((p, i) => `${p} (${ips[i]})`).join(", ")}: ${rules.length} rules in chain MQF_${id}`;
          },
          undo: async () => {
            await script(ctx, pod, "partition revert", ["revert", id]);
          },
        },
      ];
    });
    return applyAll(steps);
  },
};

export const bandwidthInjector: FaultInjector<"bandwidth"> = {
  ...kindFields("bandwidth"),
  deadMan: DEAD_MAN,
  determinism: "not per request: a token bucket (tbf) on the pod's interface shapes everything the pod sends",
  pods: (fault) => faultPods(fault),
  leadMs: () => 0,
  async apply(fault, ctx, { untilEpochMs }) {
    const rate = bandwidthRate(fault);
    const id = networkFaultId(fault.name);
    const burst = tbfBurstBytes(rate.bytesPerSecond);
    const steps = podsById(ctx, faultPods(fault)).map((pod) => ({
      pod: pod.plan.id,
      apply: async () => {
        const shown = await script(ctx, pod, "bandwidth", ["bandwidth", id, String(Math.ceil(untilEpochMs)), rate.text, String(burst), String(TBF_LATENCY_MS)]);
        return `${pod.plan.id}: ${shown.trim()} (what the pod sends)`;
      },
      undo: async () => {
        await script(ctx, pod, "bandwidth revert", ["revert", id]);
      },
    }));
    return applyAll(steps);
  },
};
