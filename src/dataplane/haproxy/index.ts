// The HAProxy 2.6 data plane: sidecar configs from the mesh-neutral policy, faults switched
// through the Lua fault table over the runtime API (never a reload), access logs parsed.
import type { ResolvedFault } from "../../scenario/types.js";
import type { AdminChannel, DataPlane, RuntimeFault } from "../types.js";
import { HAPROXY_RUNTIME_FAULT_KINDS, expectOk, faultDelCommand, faultSetCommand, haproxyFaultCounters } from "./faults.js";
import { parseHaproxyEventLine, parseHaproxyLogLine } from "./log.js";
import { renderHaproxySidecar } from "./render.js";
import { haproxyStats } from "./stats.js";
import { haproxyGetWeights, haproxySetWeights } from "./weights.js";

async function run(admin: AdminChannel, command: string): Promise<string> {
  return expectOk(command, await admin.send(command));
}

export const haproxyDataPlane: DataPlane = {
  name: "haproxy",
  image: { packages: ["haproxy"], contextDir: "images/haproxy" },
  admin: {
    // The stats socket in non-interactive mode: one command a line, answered, then closed.
    frame: (command) => `${command}\n`,
    readiness: { command: "show info", answerIncludes: "Name: HAProxy" },
  },
  renderSidecar: (input) => renderHaproxySidecar(input),
  runtimeFaultKinds: new Set<string>(HAPROXY_RUNTIME_FAULT_KINDS),
  async applyFault(admin: AdminChannel, f: RuntimeFault): Promise<void> {
    await run(admin, faultSetCommand(f));
  },
  /** Idempotent: a fault that is already gone (or was never set) is fine. */
  async revertFault(admin: AdminChannel, fault: ResolvedFault): Promise<void> {
    await run(admin, faultDelCommand(fault.name));
  },
  parseLogLine: parseHaproxyLogLine,
  faultCounters: haproxyFaultCounters,
  stats: haproxyStats,
  getWeights: haproxyGetWeights,
  setWeights: haproxySetWeights,
  // Runtime faults are sent ahead of their start with since=: the proxy switches them on by its own clock.
  startsFaultsOnTime: true,
  parseEventLine: parseHaproxyEventLine,
};

export { renderHaproxyConfig, renderHaproxySidecar, HAPROXY_CONFIG_PATH, HAPROXY_SUPPORT_DIR } from "./render.js";
export { parseHaproxyEventLine, parseHaproxyLogLine, terminationCause } from "./log.js";
export {
  FAULT_CLEAR_COMMAND,
  FAULT_LIST_COMMAND,
  HaproxyCommandError,
  faultDelCommand,
  faultSetCommand,
  parseFaultList,
} from "./faults.js";
export { faultDie, podSeed, defaultFaultSeed } from "./seed.js";
