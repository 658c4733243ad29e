// A stand-in harness for faults-network.test.ts: applies the faults it is given through the
// injector registry, says "applied", and then waits to be killed (SIGKILL: no revert, no
// teardown). What ends the faults after that is their dead-man switches alone.
import Docker from "dockerode";
import { haproxyFaultCounters } from "../../src/dataplane/haproxy/faults.js";
import { haproxyDataPlane } from "../../src/dataplane/haproxy/index.js";
import { FAULT_INJECTORS, injectorFor } from "../../src/faults/registry.js";
import { unixAdminChannel } from "../../src/runtime/admin-channel.js";
import type { StartedPod } from "../../src/runtime/topology.js";
import type { ResolvedFault } from "../../src/scenario/types.js";

interface ChildInput {
  pods: Array<Omit<StartedPod, "admin">>;
  network: string;
  faults: ResolvedFault[];
  startEpochMs: number;
  untilEpochMs: number;
}

const input = JSON.parse(process.env.MQ_FAULT_CHILD ?? "null") as ChildInput;
const ctx = {
  docker: new Docker(),
  dataPlane: { ...haproxyDataPlane, faultCounters: haproxyFaultCounters, startsFaultsOnTime: true },
  pods: input.pods.map((p) => ({ ...p, admin: unixAdminChannel(p.adminSocket!, haproxyDataPlane.admin) })),
  network: input.network,
};
for (const fault of input.faults) {
  const applied = await injectorFor(FAULT_INJECTORS, fault.kind).apply(fault, ctx, { startEpochMs: input.startEpochMs, untilEpochMs: input.untilEpochMs });
  process.stdout.write(`${fault.name}: ${applied.evidence.join(" | ")}\n`);
}
process.stdout.write("applied\n");
setInterval(() => {}, 60_000);
