import { describe, expect, it } from "vitest";
import type { AdminChannel } from "../types.js";
import { haproxyGetWeights, haproxySetWeights } from "./weights.js";

/** An admin channel that answers from a table and records what it was sent. */
function fakeAdmin(answers: Record<string, string>): AdminChannel & { sent: string[] } {
  const sent: string[] = [];
  return { sent, send: async (command: string) => (sent.push(command), answers[command] ?? "") };
}

describe("route weights over the runtime API", () => {
  it("reads each replica's current weight and sets new ones, one command each", async () => {
    const admin = fakeAdmin({ "get weight payments/r0": "256 (initial 256)\n", "get weight payments/r2": "57 (initial 57)\n" });
    expect(await haproxyGetWeights(admin, "payments", [0, 2])).toEqual([{ index: 0, weight: 256 }, { index: 2, weight: 57 }]);
    await haproxySetWeights(admin, "payments", [{ index: 0, weight: 128 }, { index: 2, weight: 256 }]);
    expect(admin.sent.slice(2)).toEqual(["set server payments/r0 weight 128", "set server payments/r2 weight 256"]);
  });

  it("says the proxy's reason when it refuses", async () => {
    const admin = fakeAdmin({ "set server payments/r0 weight 999": "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n" });
    await expect(haproxySetWeights(admin, "payments", [{ index: 0, weight: 999 }])).rejects.toThrow(/static LB algorithm/);
    await expect(haproxyGetWeights(fakeAdmin({}), "payments", [1])).rejects.toThrow(/get weight payments\/r1: no answer/);
  });
});
