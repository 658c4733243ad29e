import { readdirSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readScenario } from "../scenario/load-scenario.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { openRecording, readRecording, RECORDING_VERSION, RecordingError, type RecordingEnd } from "./recording.js";

const tmp = () => mkdtemp(join(tmpdir(), "mq-recording-"));

async function demo(): Promise<ResolvedScenario> {
  const { scenario } = await readScenario("scenarios/demo.yaml");
  return scenario!;
}

const END: Omit<RecordingEnd, "t"> = {
  loadStartEpochMs: 1_700_000_000_000,
  faults: [{ name: "f", applySentAt: 1, appliedAt: 2, revertSentAt: 3, revertedAt: 4, error: null }],
  load: null,
  errors: [],
  interrupted: false,
  lost: false,
  timings: { setupMs: 1, runMs: 2, teardownMs: 3, steps: {} },
  environment: { node: "v20", platform: "linux-x64", docker: "20.10", dataPlane: "haproxy", image: "meshquake/mesh:x" },
};

describe("a run's recording", () => {
  it("reads back what was written, in order, with the scenario as resolved", async () => {
    const path = join(await tmp(), "a", "recording.ndjson.gz");
    const scenario = await demo();
    const w = await openRecording(path, { runId: "r1", toolVersion: "0.1.0", startedAtEpochMs: 5, scenario, image: "img", userImages: { web: "meshquake/app:1" } });
    w.request({ startUs: 10, sentUs: 12, latencyUs: 900, status: 200, id: "a" });
    w.line("payments-0", '{"x":1}');
    w.request({ startUs: 20, latencyUs: 0, status: "notSent" });
    w.line("checkout-1", "not json at all");
    await w.end(END);
    expect(w.error).toBeNull();
    const r = await readRecording(path);
    expect(r.start).toMatchObject({ t: "start", version: RECORDING_VERSION, runId: "r1", image: "img", userImages: { web: "meshquake/app:1" } });
    expect(r.start.scenario).toEqual(scenario);
    expect(r.requests).toEqual([
      { startUs: 10, sentUs: 12, latencyUs: 900, status: 200, id: "a" },
      { startUs: 20, latencyUs: 0, status: "notSent" },
    ]);
    expect(r.lines).toEqual([
      { pod: "payments-0", line: '{"x":1}' },
      { pod: "checkout-1", line: "not json at all" },
    ]);
    expect(r.end).toEqual({ t: "end", ...END });
  });

  it("keeps every shipped scenario exactly through JSON (the judge rebuilds the plan from it)", async () => {
    for (const f of readdirSync("scenarios").filter((n) => n.endsWith(".yaml"))) {
      const { scenario } = await readScenario(join("scenarios", f), { allowOutsideImports: true });
      expect(JSON.parse(JSON.stringify(scenario)), f).toEqual(scenario);
    }
  });

  it("a run cut short has no end; a newer version, a foreign file or a missing one is refused with the reason", async () => {
    const dir = await tmp();
    const cut = join(dir, "cut.ndjson.gz");
    await writeFile(cut, gzipSync(`${JSON.stringify({ t: "start", version: 1, runId: "r", toolVersion: "x", startedAtEpochMs: 0, scenario: {}, image: "i", userImages: {} })}\n`));
    expect((await readRecording(cut)).end).toBeNull();
    const newer = join(dir, "newer.ndjson.gz");
    await writeFile(newer, gzipSync(`${JSON.stringify({ t: "start", version: RECORDING_VERSION + 1 })}\n`));
    await expect(readRecording(newer)).rejects.toThrow(/newer than this meshquake reads/);
    const plain = join(dir, "plain.ndjson.gz");
    await writeFile(plain, "not gzip");
    await expect(readRecording(plain)).rejects.toThrow(RecordingError);
    const noStart = join(dir, "nostart.ndjson.gz");
    await writeFile(noStart, gzipSync(`${JSON.stringify({ t: "request", startUs: 1 })}\n`));
    await expect(readRecording(noStart)).rejects.toThrow(/starts with a "start" line/);
    await expect(readRecording(join(dir, "missing.gz"))).rejects.toThrow(/no such recording/);
  });
});
