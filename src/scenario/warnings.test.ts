import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { acknowledges, applyAcknowledgements, WARNING_IDS, type PlanWarning } from "./warnings.js";

const w = (id: PlanWarning["id"], path: PlanWarning["path"]): PlanWarning => ({ id, path, text: `${id} at ${path.join(".")}` });

describe("acknowledgements", () => {
  it("match an id everywhere, or at a path and below it only", () => {
    const retry = w("retry-5xx-statuses", ["policies", "payments", "retries", "retryOn"]);
    expect(acknowledges({ warning: "retry-5xx-statuses", at: null }, retry)).toBe(true);
    expect(acknowledges({ warning: "retry-5xx-statuses", at: "policies.payments" }, retry)).toBe(true);
    expect(acknowledges({ warning: "retry-5xx-statuses", at: "policies.payments.retries.retryOn" }, retry)).toBe(true);
    expect(acknowledges({ warning: "retry-5xx-statuses", at: "policies.pay" }, retry)).toBe(false);
    expect(acknowledges({ warning: "retry-previous-host", at: null }, retry)).toBe(false);
    expect(acknowledges({ warning: "fault-at-ingress", at: "faults" }, w("fault-at-ingress", ["faults", 2, "target"]))).toBe(true);
  });

  it("set acknowledged warnings apart and say each one that matched nothing", () => {
    const all = [w("retry-5xx-statuses", ["policies", "a"]), w("retry-5xx-statuses", ["policies", "b"]), w("breaker-per-replica", ["policies", "a"])];
    const { shown, acknowledged } = applyAcknowledgements(all, [
      { warning: "retry-5xx-statuses", at: "policies.a" },
      { warning: "ejection-impossible", at: null },
    ]);
    expect(acknowledged).toEqual([all[0]]);
    expect(shown.map((s) => s.id)).toEqual(["retry-5xx-statuses", "breaker-per-replica", "acknowledgement-unused"]);
    expect(shown[2]!.path).toEqual(["acknowledge", 1]);
  });

  it("docs/policy.md lists every warning id", () => {
    const docs = readFileSync("docs/policy.md", "utf8");
    expect(WARNING_IDS.filter((id) => !docs.includes(`| \`${id}\` |`))).toEqual([]);
  });
});
