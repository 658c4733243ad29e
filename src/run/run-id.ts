import { randomBytes } from "node:crypto";

/** "mq-<scenario prefix>-<6 hex>": short enough for container names, unique per run. */
export function newRunId(scenario: string, random: () => string = () => randomBytes(3).toString("hex")): string {
  return `mq-${scenario.slice(0, 20).replace(/-+$/, "")}-${random()}`;
}
