import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { interpolate, parseEnvFile } from "./compose-env.js";
import { containerPortOf, importCompose, shellWords } from "./compose-import.js";
import { formatProblem } from "./format-problem.js";
import { parseScenario } from "./load-scenario.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const files = (map: Record<string, string>) => (path: string) => map[path] ?? null;
const fromDisk = (path: string) => {
  try {
    return readFileSync(`${ROOT}${path}`, "utf8");
  } catch {
    return null;
  }
};

describe("importCompose: the top-level docker-compose.yml", () => {
  const imported = importCompose("docker-compose.yml", fromDisk);

  it("takes every service, with its build, environment, healthcheck, depends_on and replicas", () => {
    expect(Object.keys(imported.services)).toEqual(["frontend", "checkout", "payments", "inventory"]);
    const health = { command: ["node", "-e", expect.stringContaining("http://127.0.0.1:8080/healthz")] };
    expect(imported.services.frontend).toEqual({
      // ${MESHQUAKE_BASE:-debian:bookworm-slim}: meshquake reads no environment, so the default
      build: { context: "fixtures/service", args: { MESHQUAKE_BASE: "debian:bookworm-slim" } },
      env: { MQ_SERVICE: "frontend", MQ_CALLS: "checkout:8080" },
      health,
      dependsOn: ["checkout"],
      calls: ["checkout"],
      port: 8080,
    });
    expect(imported.services.checkout).toMatchObject({ dependsOn: ["payments", "inventory"], calls: ["payments", "inventory"] });
    expect(imported.services.payments).toMatchObject({ replicas: 3, port: 8080, health });
    expect(imported.services.inventory).not.toHaveProperty("replicas");
  });

  it("reports what it does not honour, located, once for a definition shared through an anchor", () => {
    expect(imported.problems.map(formatProblem)).toEqual([
      "docker-compose.yml:24:5 warning: services.frontend.healthcheck.interval: healthcheck interval is not honoured: meshquake runs the test " +
        "only to know when the app is ready (every 100 ms, for up to 30 s), and does not keep checking during the run",
      "docker-compose.yml:32:5 warning: services.frontend.ports: published ports are not honoured: meshquake publishes only the load target's " +
        "inbound listener, on 127.0.0.1 (the container port is taken as the app's port when nothing else names it)",
    ]);
  });
});

describe("importCompose: what compose says and meshquake cannot honour", () => {
  const compose = `
services:
  api:
    image: acme/api:1.2
    command: node server.js --name "api one"
    entrypoint: ["/bin/sh", "-c"]
    user: "1000"
    working_dir: /srv
    environment:
      - LEVEL=debug
      - FROM_SHELL
    env_file: api.env
    ports: ["127.0.0.1:9000:3000"]
    volumes: [./data:/data]
    networks: [back]
    restart: always
    healthcheck:
      test: curl -fs http://localhost:3000/ready
      retries: 3
    deploy:
      replicas: 2
      resources: { limits: { cpus: "0.5" } }
    x-team: payments
  worker:
    build: { context: ./worker, dockerfile: Containerfile, args: [VERSION=2], cache_from: [x] }
    depends_on:
      api: { condition: service_completed_successfully }
    expose: ["8081", "9090"]
  cron:
    build: https://github.com/acme/cron.git
  Bad_Name:
    image: x
networks:
  back: {}
volumes:
  data: {}
`;
  const imported = importCompose("app/compose.yaml", files({ "app/compose.yaml": compose, "app/api.env": "# api\nTOKEN='abc'\nLEVEL=info\n" }));

  it("keeps what it can run", () => {
    expect(imported.services.api).toEqual({
      image: "acme/api:1.2",
      command: ["node", "server.js", "--name", "api one"],
      entrypoint: ["/bin/sh", "-c"],
      user: "1000",
      workingDir: "/srv",
      // environment wins over env_file
      env: { TOKEN: "abc", LEVEL: "debug" },
      health: { command: ["sh", "-c", "curl -fs http://localhost:3000/ready"] },
      replicas: 2,
      port: 3000,
    });
    expect(imported.services.worker).toEqual({
      build: { context: "./worker", dockerfile: "Containerfile", args: { VERSION: "2" } },
      dependsOn: ["api"],
      calls: ["api"],
      port: 8081,
    });
    expect(imported.services).not.toHaveProperty("Bad_Name");
  });

  it("lists everything else with the reason, located in the compose file", () => {
    const lines = imported.problems.map(formatProblem);
    expect(lines).toEqual([
      "app/compose.yaml:11:9 warning: services.api.environment[1]: variable FROM_SHELL has no value, so compose would take it from your shell; " +
        "meshquake does not read your environment. Give it a value",
      "app/compose.yaml:13:5 warning: services.api.ports: published ports are not honoured: meshquake publishes only the load target's inbound " +
        "listener, on 127.0.0.1 (the container port is taken as the app's port when nothing else names it)",
      "app/compose.yaml:14:5 warning: services.api.volumes: volumes is not honoured: volumes are not mounted: each replica starts from its image alone",
      "app/compose.yaml:15:5 warning: services.api.networks: networks is not honoured: every service joins the run's one network, where service " +
        "names resolve; networks and their aliases are not created",
      "app/compose.yaml:16:5 warning: services.api.restart: restart is not honoured: meshquake never restarts an app by itself; kill faults decide " +
        "when an app comes back",
      "app/compose.yaml:19:7 warning: services.api.healthcheck.retries: healthcheck retries is not honoured: meshquake runs the test only to know " +
        "when the app is ready (every 100 ms, for up to 30 s), and does not keep checking during the run",
      "app/compose.yaml:22:7 warning: services.api.deploy.resources: deploy.resources is not honoured: only deploy.replicas is",
      "app/compose.yaml:25:79 warning: services.worker.build.cache_from: build.cache_from is not honoured: meshquake builds with context, " +
        "dockerfile, args and target only",
      `app/compose.yaml:27:25 warning: services.worker.depends_on.api.condition: service_completed_successfully is not honoured: every service ` +
        `is meshed as a server that keeps running; "worker" waits for "api" to be ready instead`,
      "app/compose.yaml:28:13 warning: services.worker.expose: meshquake meshes one port per service, 8081; 9090 not meshed",
      `app/compose.yaml:29:3 warning: services.cron: no port found for "cron" (no expose, ports or PORT in its environment); assuming 8080. ` +
        `Name it with expose: ["<port>"], or with port in the scenario's services.cron`,
      `app/compose.yaml:30:12 services.cron.build: a remote build context ("https://github.com/acme/cron.git") cannot be fetched here; use a local folder`,
      `app/compose.yaml:31:3 services.Bad_Name: a service name starts with a lowercase letter and uses only lowercase letters, digits and "-" ` +
        `(it becomes a DNS name), found "Bad_Name"; try "bad-name"`,
      "app/compose.yaml:33:1 warning: networks: the run creates one network of its own; these networks are not created",
      "app/compose.yaml:35:1 warning: volumes: volumes are not created or mounted",
    ]);
    expect(lines.filter((l) => l.includes("x-team"))).toEqual([]);
  });
});

describe("importCompose: files and values", () => {
  it("a missing compose file or env_file is an error at the reference", () => {
    expect(importCompose("nope.yml", files({})).problems.map(formatProblem)).toEqual(["nope.yml:1:1 no such file (topology.compose names it)"]);
    const r = importCompose("c.yml", files({ "c.yml": "services:\n  a:\n    image: x\n    env_file: [missing.env]\n    expose: [80]\n" }));
    expect(r.problems.map(formatProblem)).toEqual([`c.yml:4:16 services.a.env_file[0]: env_file "missing.env" does not exist (looked for missing.env)`]);
  });

  it("a service with nothing to run, extends and include are errors", () => {
    const r = importCompose("c.yml", files({ "c.yml": "include: [other.yml]\nservices:\n  a:\n    extends: { service: b }\n    expose: [80]\n" }));
    expect(r.problems.map(formatProblem)).toEqual([
      "c.yml:1:1 include: include is not supported: merge the included files into this one",
      `c.yml:3:3 services.a: "a" has neither "image" nor "build", so there is nothing to run`,
      "c.yml:4:5 services.a.extends: extends is not supported: write the service out in full",
    ]);
  });

  it("interpolates like compose, from the .env file beside it only", () => {
    const report: string[] = [];
    const vars = { TAG: "1.4", EMPTY: "" };
    const r = (t: string) => interpolate(t, vars, (m, s) => report.push(`${s}: ${m}`));
    expect(r("acme/api:${TAG}")).toBe("acme/api:1.4");
    expect(r("${MISSING:-fallback} ${EMPTY:-colon} ${EMPTY-dash} $$HOME ${TAG:+set}")).toBe("fallback colon  $HOME set");
    expect(report).toEqual([]);
    expect(r("${HOME}")).toBe("");
    expect(report[0]).toMatch(/^warning: \$\{HOME\} is not set: meshquake does not read your environment/);
    const dotEnv = importCompose("d/c.yml", files({ "d/c.yml": "services:\n  a:\n    image: acme/a:${TAG}\n", "d/.env": "TAG=7\n" }));
    expect(dotEnv.services.a?.image).toBe("acme/a:7");
  });

  it("splits command strings like a shell, without running one", () => {
    expect(shellWords(`sh -c 'echo "$X" && sleep 1' --flag=a\\ b ""`)).toEqual(["sh", "-c", 'echo "$X" && sleep 1', "--flag=a b", ""]);
    expect(shellWords(`unbalanced "quote`)).toBeNull();
  });

  it("reads env files and port specs", () => {
    expect(parseEnvFile("# c\nexport A=1\nB = two # note\nC=\"q # not a comment\"\nnoequals\n").values).toEqual({ A: "1", B: "two", C: "q # not a comment" });
    expect(["8080", 8080, "127.0.0.1:9000:80/tcp", "9000-9001:80", { target: 81 }, "53/udp", "x"].map(containerPortOf)).toEqual([
      8080, 8080, 80, 80, 81, null, null,
    ]);
  });
});

describe("importCompose: the protocol a service states", () => {
  const PORTS_WARNING =
    "published ports are not honoured: meshquake publishes only the load target's inbound listener, on 127.0.0.1 " +
    "(the container port is taken as the app's port when nothing else names it)";
  const imported = (body: string) => importCompose("c.yml", files({ "c.yml": `services:\n  api:\n    image: acme/api:1\n${body}` }));

  it("maps the meshed port's app_protocol: grpc, http2 and h2c, http and http1.1", () => {
    const protocolOf = (value: string) => imported(`    ports: [{ target: 50051, app_protocol: ${value} }]\n`).services.api?.protocol;
    expect(["grpc", "GRPC", "http2", "h2c", "http", "http1.1"].map(protocolOf)).toEqual(["grpc", "grpc", "http2", "http2", "http", "http"]);
    const r = imported("    ports: [{ target: 50051, app_protocol: grpc }]\n");
    expect(r.services.api).toEqual({ image: "acme/api:1", port: 50051, protocol: "grpc" });
    expect(r.fieldPaths.get("api")?.protocol).toEqual(["services", "api", "ports", 0, "app_protocol"]);
    expect(r.problems.map(formatProblem)).toEqual([`c.yml:4:5 warning: services.api.ports: ${PORTS_WARNING}`]);
  });

  it("warns for other values, for a protocol of a port it does not mesh, and for one port given two", () => {
    const r = imported(`    expose: ["8080"]
    ports:
      - { target: 8080, app_protocol: https }
      - { target: 8080, app_protocol: http2 }
      - { target: 8080, app_protocol: grpc }
      - { target: 9090, app_protocol: grpc }
      - { target: 9091, app_protocol: h2c }
`);
    expect(r.services.api?.protocol).toBe("http2");
    expect(r.problems.map(formatProblem)).toEqual([
      `c.yml:4:13 warning: services.api.expose: meshquake meshes one port per service, 8080; 9090, 9091 not meshed`,
      `c.yml:5:5 warning: services.api.ports: ${PORTS_WARNING}`,
      `c.yml:6:39 warning: services.api.ports[0].app_protocol: app_protocol "https" is not imported: meshquake reads "grpc", "http2", "h2c", "http", "http1.1"`,
      "c.yml:8:39 warning: services.api.ports[2].app_protocol: app_protocol grpc is not imported: an earlier entry for port 8080 says http2, which is",
      `c.yml:9:39 warning: services.api.ports[3].app_protocol: app_protocol grpc is not imported: it is for port 9090, and meshquake meshes "api" on port 8080 only`,
    ]);
  });

  it("reads the label meshquake.protocol, which wins over app_protocol", () => {
    const r = imported("    labels: { meshquake.protocol: grpc }\n    ports: [{ target: 8080, app_protocol: http }]\n");
    expect(r.services.api?.protocol).toBe("grpc");
    expect(r.fieldPaths.get("api")?.protocol).toEqual(["services", "api", "labels", "meshquake.protocol"]);
    expect(r.problems.map(formatProblem)).toEqual([
      `c.yml:4:35 warning: services.api.labels["meshquake.protocol"]: meshquake.protocol grpc differs from app_protocol http of port 8080; the label is used`,
      `c.yml:5:5 warning: services.api.ports: ${PORTS_WARNING}`,
    ]);
    const list = imported(`    labels: ["meshquake.protocol=http2", "team=pay"]\n    expose: ["8080"]\n`);
    expect(list.services.api?.protocol).toBe("http2");
    expect(list.problems.map(formatProblem)).toEqual([
      "c.yml:4:5 warning: services.api.labels: labels is not honoured: the app container carries meshquake's labels only (the label " +
        "meshquake.protocol is read as the service's protocol)",
    ]);
    const wrong = imported(`    labels: { meshquake.protocol: h2 }\n    expose: ["8080"]\n`);
    expect(wrong.services.api?.protocol).toBeUndefined();
    expect(wrong.problems.map(formatProblem)).toEqual([`c.yml:4:35 services.api.labels["meshquake.protocol"]: expected one of "http", "http2", "grpc", found "h2"`]);
  });
});

describe("a scenario importing a compose file", () => {
  const compose = `services:
  web:
    build: ./web
    expose: ["7070"]
    depends_on: [api]
  api:
    image: acme/api:1
    expose: ["9000"]
    deploy: { replicas: 2 }
`;
  const read = files({ "demo/compose.yml": compose });

  it("meshes the compose services; the scenario overrides and adds by service name", () => {
    const { scenario, problems } = parseScenario(
      "demo/s.yaml",
      `name: composed
topology: { compose: ./compose.yml }
services:
  api: { replicas: 3, env: { EXTRA: "1" } }
  mock: { calls: [api] }
policies:
  api: { retries: { attempts: 2 } }
load: { target: web, duration: 5s }
`,
      { readFile: read },
    );
    expect(problems.map(formatProblem)).toEqual([]);
    const [web, api, mock] = scenario!.services;
    expect(web).toMatchObject({ name: "web", port: 7070, calls: ["api"], dependsOn: ["api"] });
    // The build context is relative to the compose file, resolved against the scenario's folder.
    expect(web!.image).toMatchObject({
      source: { kind: "build", context: "demo/web", dockerfile: "Dockerfile", args: {}, target: null },
      readiness: { kind: "tcp" },
      upstreams: ["web", "api", "mock"],
      origin: { file: "demo/compose.yml", line: 3, col: 5 },
    });
    expect(api).toMatchObject({ name: "api", replicas: 3, port: 9000 });
    expect(api!.image).toMatchObject({ source: { kind: "image", ref: "acme/api:1" }, env: { EXTRA: "1" } });
    expect(mock).toMatchObject({ name: "mock", calls: ["api"] });
    expect(mock!.image).toBeUndefined();
    expect(scenario!.policies.api!.retries?.attempts).toBe(2);
  });

  it("locates problems of imported services in the compose file, and of overrides in the scenario", () => {
    const { scenario, problems } = parseScenario(
      "demo/s.yaml",
      `name: composed
topology: { compose: ./compose.yml }
services:
  web: { dependsOn: [nope] }
  api: { replicas: 0 }
`,
      { readFile: files({ "demo/compose.yml": compose.replace("depends_on: [api]", "depends_on: [api]\n    deploy: { replicas: 99 }") }) },
    );
    expect(scenario).toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      `demo/s.yaml:4:22 services.web.dependsOn[0]: unknown service "nope". Known services: "web", "api".`,
      "demo/s.yaml:5:20 services.api.replicas: must be between 1 and 20, found 0",
      "demo/compose.yml:6:25 services.web.deploy.replicas: must be between 1 and 20, found 99",
    ]);
  });

  it("carries a compose service's protocol into the scenario, located in the compose file", () => {
    const grpc = files({ "demo/compose.yml": compose.replace('expose: ["9000"]', "ports: [{ target: 9000, app_protocol: grpc }]").replace("build: ./web", "build: ./web\n    labels: { meshquake.protocol: grpc }") });
    const { scenario, problems, locate } = parseScenario("demo/s.yaml", "name: composed\ntopology: { compose: ./compose.yml }\nload: { target: web, protocol: grpc, method: my.Api/Get, duration: 5s }\n", { readFile: grpc });
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^demo\/compose\.yml:9:5 warning: services\.api\.ports: published ports are not honoured/)]);
    expect(scenario!.services.map((s) => [s.name, s.protocol])).toEqual([["web", "grpc"], ["api", "grpc"]]);
    expect(locate!(["services", "api", "protocol"])).toMatchObject({ file: "demo/compose.yml", line: 9, col: 43 });
  });

  it("a missing compose file is an error pointing at the file", () => {
    const { problems } = parseScenario("s.yaml", "name: x\ntopology: { compose: ./nope.yml }\n", { readFile: files({}) });
    expect(problems.map(formatProblem)).toEqual(["nope.yml:1:1 no such file (topology.compose names it)"]);
  });
});
