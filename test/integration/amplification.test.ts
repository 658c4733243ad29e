// Truth against theory: measured retry amplification on real pods agrees with the analytic model
// (src/verdict/properties/amplification-model.ts). Two chains side by side under one ingress —
//   A: a1 → a2                (a2 fails each call with probability pA; a1 tries up to 3 times)
//   B: b1 → b2 → b3           (b3 fails with pB; b2 and b1 each try up to 3 times)
// — run twice with p swapped (0.3 and 0.5), so each chain is measured at both values. At each
// hop the tries per request must be 1 + q + q² for the callee's failure probability q, and q of
// the hop above must be the hop below failing all three tries (p³): a retry storm is the product.
// Tolerance: 4 standard errors of the mean tries per request (the model's own spread over the
// requests measured) + 0.01 for the few requests at the load's edges.
import { describe, expect, it } from "vitest";
import type { RunReport } from "../../src/model/run-report.js";
import { chainModel, type HopModel } from "../../src/verdict/properties/amplification-model.js";
import { runScenarioText, runsOfThisFile } from "./scenario-runs.js";

const runIds = runsOfThisFile();

const scenarioText = (pA: number, pB: number) => `name: amplification-${pA * 10}-${pB * 10}
seed: 17
services:
  front: { calls: [a1, b1] }
  a1: { calls: [a2] }
  a2: { errorRate: ${pA} }
  b1: { calls: [b2] }
  b2: { calls: [b3] }
  b3: { errorRate: ${pB} }
policies:
  a2: { retries: { attempts: 3, retryOn: [5xx] } }
  b2: { retries: { attempts: 3, retryOn: [5xx] } }
  b3: { retries: { attempts: 3, retryOn: [5xx] } }
load: { target: front, rate: 150, connections: 16, duration: 8s }
checks:
  - property: retry_amplification
    edge: { from: a1, to: a2 }
    max: 2
  - property: retry_amplification
    edge: { from: b2, to: b3 }
    max: 2
`;

async function run(pA: number, pB: number): Promise<RunReport> {
  const runId = `dev-prop-amp-${pA * 10}${pB * 10}-${process.pid.toString(36)}`;
  runIds.push(runId);
  return runScenarioText("amplification.yaml", scenarioText(pA, pB), runId);
}

function compare(report: RunReport, hops: HopModel[], label: string): void {
  for (const hop of hops) {
    const edge = report.edges.find((e) => e.from === hop.from && e.to === hop.to)!;
    const measured = edge.attempts / edge.requests;
    const tolerance = (4 * hop.sd) / Math.sqrt(edge.requests) + 0.01;
    console.log(
      `${label} ${hop.from} → ${hop.to}: ${edge.attempts} tries / ${edge.requests} requests = ${measured.toFixed(4)}; ` +
        `model 1 + q + q² at q = ${hop.tryFailure.toFixed(4)}: ${hop.amplification.toFixed(4)} ± ${tolerance.toFixed(4)}`,
    );
    expect(Math.abs(measured - hop.amplification), `${label} ${hop.from} → ${hop.to}`).toBeLessThanOrEqual(tolerance);
    // A request fails at this hop only when all its tries failed: q³ of them (4σ binomial).
    const failed = Object.entries(edge.statusCounts).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
    const share = failed / edge.requests;
    const sigma = Math.sqrt((hop.requestFailure * (1 - hop.requestFailure)) / edge.requests);
    expect(Math.abs(share - hop.requestFailure), `${label} ${hop.from} → ${hop.to} failures`).toBeLessThanOrEqual(4 * sigma + 0.01);
  }
}

describe("retry amplification against the analytic model", () => {
  for (const [pA, pB] of [
    [0.3, 0.5],
    [0.5, 0.3],
  ] as const) {
    it(`chain A at p = ${pA}, chain B at p = ${pB}`, async () => {
      const report = await run(pA, pB);
      const a = chainModel([{ from: "a1", to: "a2", attempts: 3 }], pA);
      const b = chainModel(
        [
          { from: "b1", to: "b2", attempts: 3 },
          { from: "b2", to: "b3", attempts: 3 },
        ],
        pB,
      );
      compare(report, a, `A p=${pA}`);
      compare(report, b, `B p=${pB}`);
      // End to end along chain B: tries at b3 per request b1 sent, the product of the hops.
      const b1 = report.edges.find((e) => e.from === "b1" && e.to === "b2")!;
      const b3 = report.edges.find((e) => e.from === "b2" && e.to === "b3")!;
      const product = b3.attempts / b1.requests;
      console.log(`B p=${pB} end to end: ${product.toFixed(4)} tries at b3 per b1 request; model ${b[1]!.perTopRequest.toFixed(4)}`);
      expect(Math.abs(product - b[1]!.perTopRequest)).toBeLessThanOrEqual((4 * b[1]!.sd * b[0]!.amplification) / Math.sqrt(b1.requests) + 0.02);
      // The property check shows the same model in its evidence, from the first tries it saw fail.
      for (const check of report.checks) {
        const model = check.evidence.model as { expected: number; firstTryFailureRate: number };
        expect(Math.abs(model.expected - check.observed!)).toBeLessThan(0.1);
      }
    });
  }
});
