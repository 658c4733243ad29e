import { describe, expect, it } from "vitest";
import { haproxyDataPlane } from "../dataplane/haproxy/index.js";
import { parseScenario } from "../scenario/load-scenario.js";
import { buildPlan } from "./plan.js";
import { POD_PORTS, SIDECAR_TLS_CA, SIDECAR_TLS_CERT } from "./types.js";

function plan(text: string) {
  const { scenario, problems } = parseScenario("inline.yaml", text);
  if (!scenario) throw new Error(JSON.stringify(problems));
  return buildPlan({ scenario, runId: "mq-tls", image: "meshquake/mesh:0123456789ab", dataPlane: haproxyDataPlane });
}
const yaml = (extra: string) => `
name: mtls
${extra}
services:
  frontend: { calls: [checkout] }
  checkout: { replicas: 2, calls: [ledger] }
  ledger: {}
load: { target: frontend }
`;
const config = (p: ReturnType<typeof plan>, pod: string) => p.pods.find((x) => x.id === pod)!.sidecar.files[0]!.content;

describe("plans with mutual TLS", () => {
  it("mesh.mtls: every pod gets a certificate, every caller reaches its destinations' mTLS listeners", () => {
    const p = plan(yaml("mesh: { mtls: true }"));
    expect(p.pods.map((x) => x.mtls)).toEqual([true, true, true, true]);
    expect(config(p, "frontend-0")).toContain(`checkout-1:${POD_PORTS.mtlsInbound} `);
    expect(config(p, "frontend-0")).toContain(`ssl crt ${SIDECAR_TLS_CERT} ca-file ${SIDECAR_TLS_CA} verify required verifyhost checkout`);
    expect(config(p, "checkout-1")).toContain(`bind 0.0.0.0:${POD_PORTS.mtlsInbound} ssl`);
    expect(config(p, "ledger-0")).toContain("frontend mq_inbound_mtls");
  });

  it("a destination's tls mode overrides mesh.mtls both ways", () => {
    const off = plan(yaml("mesh: { mtls: true }\npolicies:\n  ledger: { tls: { mode: disable } }"));
    expect(config(off, "checkout-0")).toContain(`ledger-0:${POD_PORTS.inbound} `);
    expect(config(off, "ledger-0")).not.toContain("frontend mq_inbound_mtls");
    const on = plan(yaml("policies:\n  ledger: { tls: { mode: mutual } }"));
    expect(on.pods.every((x) => x.mtls)).toBe(true);
    expect(config(on, "checkout-0")).toContain(`ledger-0:${POD_PORTS.mtlsInbound} `);
    expect(config(on, "frontend-0")).toContain(`checkout-0:${POD_PORTS.inbound} `);
    expect(config(on, "checkout-0")).not.toContain("frontend mq_inbound_mtls");
  });

  it("without mTLS no pod gets a certificate and the plan is as before", () => {
    const p = plan(yaml(""));
    expect(p.pods.some((x) => "mtls" in x)).toBe(false);
    expect(config(p, "frontend-0")).not.toContain(" ssl ");
  });
});
