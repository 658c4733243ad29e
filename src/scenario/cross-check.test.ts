// Cross-checks that the invalid-scenario corpus cannot show yet: a check naming a version of a
// service that has versions (services.<s>.versions is not in this schema version's services).
import { describe, expect, it } from "vitest";
import { crossCheck } from "./cross-check.js";
import { scenarioParts } from "./scenario-parts.js";

describe("checks on a service's versions", () => {
  const withVersions = (check: Record<string, unknown>) =>
    crossCheck(
      scenarioParts({
        name: "canary",
        services: { frontend: { calls: ["payments"] }, payments: { versions: { v1: { replicas: 3 }, v2: { replicas: 1 } } } },
        checks: [check],
      }),
    ).map((f) => [f.path.join("."), f.message]);

  it("knows the target's versions, and suggests the closest", () => {
    expect(withVersions({ property: "blast_radius", target: "payments", version: "v22", max: "10%" })).toEqual([
      ["checks.0.version", `"payments" has no version "v22"; did you mean "v2"? Its versions: "v1", "v2".`],
    ]);
    expect(withVersions({ property: "blast_radius", target: "payments", version: "v2", max: "10%" })).toEqual([]);
    expect(withVersions({ property: "traffic_split", target: "payments", tolerance: "2%" })).toEqual([]);
  });
});
