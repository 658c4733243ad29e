import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { haproxyDataPlane } from "../dataplane/haproxy/index.js";
import { parseScenario, readFileOrNull } from "../scenario/load-scenario.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { buildPlan, FIXTURE_COMMAND } from "./plan.js";
import { printPlan } from "./print-plan.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MESH = "meshquake/mesh:0123456789ab";

function scenarioFile(file: string): ResolvedScenario {
  const read = (p: string) => readFileOrNull(p.startsWith("/") ? p : `${ROOT}${p}`);
  // The example imports from outside scenarios/, as its run in the README does with --allow-outside-imports.
  const { scenario, problems } = parseScenario(file, readFileSync(`${ROOT}${file}`, "utf8"), { readFile: read, allowOutsideImports: true });
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  return scenario!;
}

describe("buildPlan with user images", () => {
  const scenario = scenarioFile("scenarios/tiny-server.yaml");

  it("only the app container runs the user's image; infra and sidecar stay on the mesh image", () => {
    const plan = buildPlan({ scenario, runId: "mq-t", image: MESH, dataPlane: haproxyDataPlane, userImages: { web: "meshquake/app:aaa", store: "meshquake/app:aaa" } });
    expect(plan.image).toBe(MESH);
    expect(plan.pods.map((p) => [p.id, p.app.image, p.app.kind])).toEqual([
      ["web-0", "meshquake/app:aaa", "user"],
      ["store-0", "meshquake/app:aaa", "user"],
      ["store-1", "meshquake/app:aaa", "user"],
      ["store-2", "meshquake/app:aaa", "user"],
    ]);
    const web = plan.pods[0]!;
    // The app is unchanged: its own env and CMD, no fixture variables, its port and its health path.
    expect(web.app).toEqual({
      image: "meshquake/app:aaa",
      kind: "user",
      env: { NAME: "web", UPSTREAM: "http://store:7070/item" },
      command: null,
      entrypoint: null,
      user: null,
      workingDir: null,
      port: 7070,
      health: "/health",
      readiness: { kind: "http", path: "/health" },
      startAfter: [],
      // A user image's default limits (DEFAULTS.resources.userImage): 1 GiB, 1024 processes.
      resources: { memoryBytes: 1024 ** 3, pids: 1024 },
    });
    // The sidecar forwards inbound traffic to the app's own port, and routes every service outbound.
    const config = web.sidecar.files[0]!.content;
    expect(config).toContain("server app 127.0.0.1:7070");
    expect(config).toMatch(/use_backend store if/);
    expect(config).toMatch(/use_backend web if/);
  });

  it("without built images (meshquake plan), each pod shows what it will run", () => {
    const plan = buildPlan({ scenario, runId: "mq-plan", image: MESH, dataPlane: haproxyDataPlane });
    expect(plan.pods[0]!.app.image).toBe("<build fixtures/tiny-server/Dockerfile>");
    expect(printPlan(plan, { configs: false })).toContain("web-0                app :7070 image <build fixtures/tiny-server/Dockerfile> calls store");
  });

  it("the fixture keeps its image, command and environment", () => {
    const demo = scenarioFile("scenarios/demo.yaml");
    const plan = buildPlan({ scenario: demo, runId: "mq-d", image: MESH, dataPlane: haproxyDataPlane });
    expect(plan.pods[0]!.app).toMatchObject({ image: MESH, kind: "fixture", command: FIXTURE_COMMAND, readiness: { kind: "http", path: "/healthz" } });
    expect(plan.pods[0]!.app.env.MQ_CALLS).toBe("checkout:8080");
    expect(plan.meshProbe).toEqual({ path: "/" });
  });
});

describe("buildPlan for the compose demo", () => {
  const scenario = scenarioFile("scenarios/compose-demo.yaml");
  const plan = buildPlan({ scenario, runId: "mq-c", image: MESH, dataPlane: haproxyDataPlane, userImages: { frontend: "a", checkout: "a", payments: "a", inventory: "a" } });

  it("one pod per replica, started in depends_on order, ready when the compose healthcheck passes", () => {
    expect(plan.pods.map((p) => p.id)).toEqual(["frontend-0", "checkout-0", "payments-0", "payments-1", "payments-2", "inventory-0"]);
    expect(Object.fromEntries(plan.pods.map((p) => [p.id, p.app.startAfter]))).toEqual({
      "frontend-0": ["checkout"],
      "checkout-0": ["payments", "inventory"],
      "payments-0": [],
      "payments-1": [],
      "payments-2": [],
      "inventory-0": [],
    });
    expect(plan.pods[2]!.app.readiness).toEqual({ kind: "exec", command: ["node", "-e", expect.stringContaining("/healthz")] });
    expect(plan.pods[2]!.app.env).toEqual({ MQ_SERVICE: "payments", MQ_LATENCY_MIN_MS: "2", MQ_LATENCY_MAX_MS: "6" });
    expect(plan.pods.find((p) => p.publishInbound)?.id).toBe("frontend-0");
  });

  it("the scenario's policy lands in the callers' sidecars", () => {
    const checkout = plan.pods.find((p) => p.id === "checkout-0")!.sidecar.files[0]!.content;
    expect(checkout).toMatch(/backend payments\b/);
    expect(scenario.policies.payments?.retries?.attempts).toBe(3);
  });
});
