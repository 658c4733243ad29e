// A caller's route weights over the runtime API: `get weight` and `set server … weight`, one
// command a connection, no reload. What a shift changes (src/faults/shift-injector.ts).
import type { AdminChannel } from "../types.js";
import { replicaServer } from "./names.js";

export async function haproxyGetWeights(admin: AdminChannel, service: string, replicas: readonly number[]): Promise<{ index: number; weight: number }[]> {
  const out: { index: number; weight: number }[] = [];
  for (const index of replicas) {
    const command = `get weight ${service}/${replicaServer(index)}`;
    // "57 (initial 57)"
    const reply = await admin.send(command);
    const match = /^(\d+) \(initial \d+\)/.exec(reply.trim());
    if (!match) throw new Error(`${command}: ${reply.trim() || "no answer"}`);
    out.push({ index, weight: Number(match[1]) });
  }
  return out;
}

export async function haproxySetWeights(admin: AdminChannel, service: string, weights: readonly { index: number; weight: number }[]): Promise<void> {
  for (const { index, weight } of weights) {
    const command = `set server ${service}/${replicaServer(index)} weight ${weight}`;
    const reply = (await admin.send(command)).trim();
    // Silence is success; anything else is the proxy's reason.
    if (reply !== "") throw new Error(`${command}: ${reply}`);
  }
}
