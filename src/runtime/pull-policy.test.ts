// The pull policy of ensureUserImages, against an engine that has some images and a registry that
// answers as an offline one does (or serves the image).
import { describe, expect, it } from "vitest";
import { parseScenario } from "../scenario/load-scenario.js";
import { ensureUserImages } from "./user-images.js";

const scenario = parseScenario("s.yaml", "name: pulls\nservices:\n  web: { calls: [ledger] }\n  ledger: { image: acme/ledger:1.4, port: 8080 }\n").scenario!;

function engine(local: boolean, registry: "offline" | "serves") {
  const pulls: string[] = [];
  let here = local;
  const docker = {
    getImage: () => ({
      inspect: async () => {
        if (!here) throw Object.assign(new Error("no such image"), { statusCode: 404 });
        return { Id: "sha256:1", Config: { User: "" } };
      },
    }),
    pull: async (ref: string) => {
      pulls.push(ref);
      if (registry === "offline") throw Object.assign(new Error("(HTTP code 500) server error - lookup registry-1.docker.io: no such host"), { json: { message: "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host" } });
      here = true;
      return "stream";
    },
    modem: { followProgress: (_s: unknown, done: (err: Error | null) => void, progress: (e: object) => void) => (progress({ id: "a", status: "Pull complete" }), done(null)) },
  };
  return { docker: docker as never, pulls };
}

const ensure = (docker: never, pull?: "missing" | "never" | "always") =>
  ensureUserImages(docker, scenario.services, { log: () => {}, base: () => Promise.reject(new Error("no base needed")), ...(pull ? { pull } : {}) });

describe("pulling a service's image:", () => {
  it("missing (default): pulls only what is not here", async () => {
    const here = engine(true, "offline");
    expect((await ensure(here.docker)).images).toEqual({ ledger: "acme/ledger:1.4" });
    expect(here.pulls).toEqual([]);
    const absent = engine(false, "serves");
    expect((await ensure(absent.docker)).images).toEqual({ ledger: "acme/ledger:1.4" });
    expect(absent.pulls).toEqual(["acme/ledger:1.4"]);
  });

  it("offline, an image that is not here fails with where the scenario names it and the engine's reason", async () => {
    await expect(ensure(engine(false, "offline").docker)).rejects.toThrow(
      /^s\.yaml:4:\d+ services\.ledger\.image: image "acme\/ledger:1\.4" does not exist locally, and pulling it failed: Get "https:\/\/registry-1\.docker\.io\/v2\/": dial tcp: lookup registry-1\.docker\.io: no such host\. Build or load it first/,
    );
  });

  it("never: pulls nothing, and says so; always: pulls even what is here, and fails when it cannot", async () => {
    const never = engine(false, "serves");
    await expect(ensure(never.docker, "never")).rejects.toThrow(/does not exist locally, and --pull never forbids pulling it/);
    expect(never.pulls).toEqual([]);
    const always = engine(true, "serves");
    await ensure(always.docker, "always");
    expect(always.pulls).toEqual(["acme/ledger:1.4"]);
    await expect(ensure(engine(true, "offline").docker, "always")).rejects.toThrow(/could not be pulled \(--pull always\): Get .*no such host\. --pull missing uses the local copy/);
  });
});
