// The data plane conformance cases (src/dataplane/conformance/) against the HAProxy adapter:
// real sidecars and fixture services in Docker, one small topology per case, modest load.
// Each case prints what it measured.
import { afterAll, describe, expect, it } from "vitest";
import { POLICY_CASES, runConformanceCase } from "../../src/dataplane/conformance/index.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { labelled, testDocker, testImage } from "./docker-env.js";
import { haproxyHarness } from "./policy-harness.js";

const docker = testDocker();
let harness: ReturnType<typeof haproxyHarness> | null = null;
const measured: string[] = [];

async function theHarness() {
  harness ??= haproxyHarness(docker, await testImage(), (line) => {
    measured.push(line);
    console.log(line);
  });
  return harness;
}

afterAll(async () => {
  // Every case removes its own topology; this catches one that crashed mid-start.
  for (const runId of harness?.runIds ?? []) {
    await cleanLeftovers(docker, runId);
    expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
  }
  if (measured.length) console.log(`policy conformance (haproxy):\n  ${measured.join("\n  ")}`);
});

describe("data plane conformance: haproxy", () => {
  for (const c of POLICY_CASES) {
    it(c.name, async () => {
      await runConformanceCase(await theHarness(), c);
    }, 90_000);
  }
});
