import { describe, expect, it } from "vitest";
import { parseScenario } from "../scenario/load-scenario.js";
import { fixtureForwards, placementWarnings } from "./placement.js";

const scenario = (faults: string, checkout = "{ calls: [payments] }") =>
  parseScenario(
    "x.yaml",
    `
name: placement
services:
  frontend: { calls: [checkout] }
  checkout: ${checkout}
  payments: { replicas: 2 }
load: { target: frontend, duration: 30s }
faults:
${faults}
`,
  ).scenario!;

describe("placementWarnings", () => {
  it("warns about a fault on the service the load generator calls directly: nothing in the mesh can retry it", () => {
    const found = placementWarnings(scenario(`  - { name: edge-abort, kind: abort, target: frontend, percent: 50, duration: 5s }`));
    expect(found.map((w) => [w.id, w.path])).toEqual([["fault-at-ingress", ["faults", 0, "target"]]]);
    expect(found.map((w) => w.text)).toEqual([
      'fault edge-abort: abort on "frontend", the service the load generator calls directly. No caller\'s sidecar stands in front of it, ' +
        "so no mesh retry, timeout or circuit breaker can react: the load generator sees the raw fault, as a fault placed in the caller's " +
        'own proxy skips that proxy\'s retries. To see how the mesh reacts, target a service "frontend" calls ("checkout").',
    ]);
  });

  it("warns about a header a user's app calling the target may not pass on; the fixture passes on every header faults match", () => {
    const faults = `  - { name: vip, kind: abort, target: payments, match: { header: x-user, value: vip }, duration: 5s }`;
    expect(placementWarnings(scenario(faults))).toEqual([]);
    const found = placementWarnings(
      scenario(`  - { name: vip, kind: abort, target: payments, match: { header: x-user, value: vip }, duration: 5s }
  - { name: ok, kind: abort, target: payments, match: { header: x-mq-tenant, value: blue }, duration: 5s }`, "{ image: shop/checkout:1, calls: [payments] }"),
    );
    expect(found.map((w) => [w.id, w.path])).toEqual([["match-header-not-forwarded", ["faults", 0, "match"]]]);
    expect(found[0]!.text).toBe('fault vip: matches header "x-user", but requests reach "payments" from "checkout", your own app: unless it passes "x-user" on to its calls, no request will match and the fault will not land.');
  });

  it("is quiet for server-side faults the mesh can react to", () => {
    expect(
      placementWarnings(
        scenario(`  - { name: a, kind: abort, target: payments, edge: { from: checkout, to: payments }, duration: 5s }
  - { name: p, kind: partition, between: [frontend, checkout], duration: 5s }`),
      ),
    ).toEqual([]);
  });

  it("knows which headers the fixture forwards", () => {
    expect([fixtureForwards("X-Request-Id"), fixtureForwards("x-mq-anything"), fixtureForwards("authorization")]).toEqual([true, true, false]);
  });
});
