// A container of your own, started by testcontainers, talking to a meshquake mesh: it joins the
// mesh's network and calls the shop's frontend by name, through the frontend's sidecar, so the
// mesh's faults reach it as they reach any caller. Here the "own service" is a Node one-liner in
// the mesh's image (this machine pulls nothing); in your suite, your image.
//   npx vitest run --project docker examples/testcontainers.test.ts
// (testcontainers' reaper, Ryuk, is off here — TESTCONTAINERS_RYUK_DISABLED=true — and the
// container is stopped in afterAll; meshquake's own containers are removed with the mesh.)
import { fileURLToPath } from "node:url";
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMesh, type Mesh } from "../src/index.js";

const SHOP = fileURLToPath(new URL("./shop.yaml", import.meta.url));

describe("a testcontainers-started service calling into the mesh", () => {
  let mesh: Mesh;
  let client: StartedTestContainer;

  beforeAll(async () => {
    mesh = await startMesh(SHOP);
    client = await new GenericContainer(mesh.image).withNetworkMode(mesh.network).withCommand(["sleep", "600"]).start();
  }, 120_000);
  afterAll(async () => {
    await client?.stop();
    await mesh?.close();
  });

  /** The status the client container gets from `url`, as seen from inside the mesh's network. */
  const statusFrom = async (url: string): Promise<string> => {
    const r = await client.exec(["node", "-e", `fetch(${JSON.stringify(url)}).then((r) => console.log(r.status), (e) => console.log(e.cause?.code ?? e.message))`]);
    return r.output.trim();
  };

  it("reaches the frontend by name, and sees a payments outage injected in the mesh", async () => {
    expect(await statusFrom("http://frontend:8080/")).toBe("200");
    const outage = await mesh.inject({ name: "payments-down", kind: "abort", target: "payments", percent: 100, status: 503 });
    try {
      expect(await statusFrom("http://frontend:8080/")).toBe("502");
    } finally {
      await outage.revert();
    }
    expect(await statusFrom("http://frontend:8080/")).toBe("200");
  });
});
