// Shared by the Docker tests that run whole scenarios in-process: the run context every one of them
// hands runScenario, a run's removal checked, the file's hooks, and a scenario file run as written
// or with one edit.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import type { RunReport } from "../../src/model/run-report.js";
import { runScenario } from "../../src/run/run-scenario.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { parseScenario } from "../../src/scenario/load-scenario.js";
import type { ResolvedScenario } from "../../src/scenario/types.js";
import { labelled, PROJECT_ROOT, testDocker, testImage } from "./docker-env.js";

/** What `meshquake run` does, in this process, on the test engine and image, under `runId`. */
export async function runInTest(scenario: ResolvedScenario, runId: string, log: (line: string) => void = () => {}): Promise<RunReport> {
  return runScenario(scenario, {
    docker: testDocker(),
    dockerVersion: "test",
    image: await testImage(),
    log,
    signal: new AbortController().signal,
    runId,
    toolVersion: "test",
  });
}

/** Removes whatever carries the run's label, and checks that nothing does any more. */
export async function removeRun(runId: string): Promise<void> {
  await cleanLeftovers(testDocker(), runId);
  expect(await labelled(testDocker(), runId)).toEqual({ containers: 0, networks: 0 });
}

/**
 * Registers the file's hooks: the image is built before its tests, and every run id pushed onto
 * the returned list is removed after them (checked), whatever the tests did.
 */
export function runsOfThisFile(): string[] {
  const runIds: string[] = [];
  beforeAll(async () => {
    await testImage();
  });
  afterAll(async () => {
    for (const id of runIds) await removeRun(id);
  });
  return runIds;
}

/**
 * Runs the scenario file at `path` (from the project root) under `runId`, changed by `edit` when
 * given (an edit that changes nothing fails the test), and removes the run afterwards, checked,
 * whatever happens. The run must end without errors.
 */
export async function runScenarioFile(path: string, runId: string, edit?: (text: string) => string): Promise<RunReport> {
  const original = await readFile(join(PROJECT_ROOT, path), "utf8");
  const text = edit ? edit(original) : original;
  if (edit) expect(text, `the edit for ${runId} changed nothing`).not.toBe(original);
  return runScenarioText(path, text, runId);
}

/** Runs a scenario given as text (named `path` in messages) under `runId`, as runScenarioFile does. */
export async function runScenarioText(path: string, text: string, runId: string): Promise<RunReport> {
  const { scenario, problems } = parseScenario(path, text);
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  try {
    const report = await runInTest(scenario!, runId);
    expect(report.errors).toEqual([]);
    return report;
  } finally {
    await removeRun(runId);
  }
}
