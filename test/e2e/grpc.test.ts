// gRPC through the mesh, against real pods (scenarios/grpc-unavailable-retries.yaml, shortened):
// a three-service gRPC chain under open-loop gRPC load, half of the last hop's answers
// UNAVAILABLE. With two attempts there, a quarter of the client's calls end UNAVAILABLE and the
// edge carries ~1.5 tries per call; without retries, half fail. Also the statuses by name in the
// report, and the attribution. Run ids start "dev-grpc-"; every run is removed. About 60 s.
import { describe, expect, it } from "vitest";
import { runScenarioFile, runsOfThisFile } from "../integration/scenario-runs.js";

const runIds = runsOfThisFile();

/** Shorter than the example (the figures stay within their binomial spread at ~1,000 calls). */
const shorten = (text: string) => text.replace("rate: 200", "rate: 150").replace("duration: 20s", "duration: 10s").replace("at: 4s, duration: 14s", "at: 2s, duration: 7s");

describe("gRPC chain with an UNAVAILABLE storm", () => {
  it("two attempts at the last hop: ~25% UNAVAILABLE at the client, ~1.5 tries per call; none: ~50%", async () => {
    const runId = `dev-grpc-retries-${process.pid.toString(36)}`;
    runIds.push(runId);
    const report = await runScenarioFile("scenarios/grpc-unavailable-retries.yaml", runId, shorten);
    const storm = report.client.windows["fault:storm"]!;
    const share = storm.errors / storm.requests;
    const amplification = report.checks.find((c) => c.property === "retry_amplification")!;
    console.log(`grpc retries: ${storm.errors}/${storm.requests} = ${share.toFixed(4)} UNAVAILABLE in the storm, amplification ${amplification.observed}`);
    expect(storm.requests).toBeGreaterThan(900);
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.3);
    expect(amplification.observed!).toBeGreaterThan(1.4);
    expect(amplification.observed!).toBeLessThan(1.6);
    // Statuses by name: the client's, and the edge's as the sidecars saw them.
    expect(Object.keys(report.client.statusCounts).sort()).toEqual(["OK", "UNAVAILABLE"]);
    expect(report.edges.find((e) => e.from === "checkout" && e.to === "payments")!.statusCounts["UNAVAILABLE"]).toBeGreaterThan(0);
    // Every failure traced to the retries running out on the injected fault.
    expect(report.attribution!.byCause["retries-exhausted"]).toBe(report.attribution!.failed);

    const bare = `dev-grpc-bare-${process.pid.toString(36)}`;
    runIds.push(bare);
    const raw = await runScenarioFile("scenarios/grpc-unavailable-retries.yaml", bare, (text) =>
      shorten(text).replace("    retries: { attempts: 2, retryOn: [unavailable, connect-failure] }\n", ""),
    );
    const rawStorm = raw.client.windows["fault:storm"]!;
    const rawShare = rawStorm.errors / rawStorm.requests;
    console.log(`grpc without retries: ${rawStorm.errors}/${rawStorm.requests} = ${rawShare.toFixed(4)}`);
    expect(rawShare).toBeGreaterThan(0.44);
    expect(rawShare).toBeLessThan(0.56);
  });
});
