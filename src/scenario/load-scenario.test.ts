import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatProblem } from "./format-problem.js";
import { parseScenario, readScenario } from "./load-scenario.js";

describe("parseScenario", () => {
  it("reports schema, reference and capability problems together, in file order", () => {
    const { scenario, problems } = parseScenario(
      "x.yaml",
      `name: together
services:
  frontend: { calls: [paymnts], replicas: 0 }
  payments: {}
faults:
  - { name: cut, kind: kill, target: payments }
dataPlane: envoy
`,
    );
    expect(scenario).toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      `x.yaml:3:23 services.frontend.calls[0]: unknown service "paymnts"; did you mean "payments"? Known services: "frontend", "payments".`,
      `x.yaml:3:43 services.frontend.replicas: must be between 1 and 20, found 0`,
      `x.yaml:7:12 dataPlane: data plane "envoy" is not implemented yet in this version of meshquake. Implemented: "haproxy".`,
    ]);
  });

  it("returns the scenario alongside warnings", () => {
    const { scenario, problems } = parseScenario(
      "w.yaml",
      `name: warned
services: { frontend: { calls: [payments] }, payments: {} }
policies: { payments: { timeout: 1s, retries: { perTryTimeout: 1s } } }
`,
    );
    expect(scenario?.name).toBe("warned");
    expect(problems.map((p) => [p.severity, p.path])).toEqual([["warning", "policies.payments.retries.perTryTimeout"]]);
  });

  it("does not look further than a YAML syntax error", () => {
    const { scenario, problems } = parseScenario("y.yaml", "name: [unclosed\nservices: {}\n");
    expect(scenario).toBeNull();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: "error", path: "" });
    expect(problems[0]?.message).toMatch(/^invalid YAML: /);
  });

  it("rejects a document that is not a map", () => {
    const { problems } = parseScenario("l.yaml", "- a\n- b\n");
    expect(problems.map(formatProblem)).toEqual(["l.yaml:1:1 expected a map, found a list of 2 items"]);
  });
});

describe("readScenario", () => {
  it("reports a missing file as a problem at 1:1", async () => {
    const { scenario, problems } = await readScenario("does/not/exist.yaml");
    expect(scenario).toBeNull();
    expect(problems.map(formatProblem)).toEqual(["does/not/exist.yaml:1:1 no such file"]);
  });

  it("reads and resolves a file, with the seed option", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshquake-scenario-"));
    try {
      const file = join(dir, "s.yaml");
      await writeFile(file, "name: from-disk\nseed: 3\nservices: { frontend: {} }\n");
      const { scenario, problems } = await readScenario(file, { seed: 9 });
      expect(problems).toEqual([]);
      expect(scenario).toMatchObject({ name: "from-disk", seed: 9, source: { file } });
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe("hostile files", () => {
  const bomb = (indent: string) =>
    ["a: &a [x, x, x, x, x, x, x, x, x]", ...["b", "c", "d", "e", "f", "g"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcdefg"[i]}`).join(", ")}]`)]
      .map((l) => indent + l)
      .join("\n");

  it("an alias bomb, an unresolved alias and a cyclic alias are located YAML errors, in the scenario and in imported files", () => {
    const files: Record<string, string> = {
      "d/compose.yml": `x-bomb:\n${bomb("  ")}\nservices:\n  api: { image: acme/api }\n`,
      "d/vs.yaml": "apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec: *nowhere\n",
    };
    const read = (path: string) => files[path] ?? null;
    const scenario = `name: aliases\ntopology: { compose: compose.yml }\npolicies: { istio: [vs.yaml] }\n`;
    expect(parseScenario("d/s.yaml", scenario, { readFile: read }).problems.map(formatProblem)).toEqual([
      "d/compose.yml:4:10 invalid YAML: aliases expand beyond 1000 copies of their anchors (an alias bomb?); write the values out instead",
      "d/vs.yaml:3:7 invalid YAML: alias *nowhere refers to no anchor; an anchor &nowhere must come before it",
    ]);
    expect(parseScenario("d/s.yaml", `name: loop\ndescription: &loop { again: *loop }\n`).problems.map(formatProblem)).toEqual([
      "d/s.yaml:2:29 invalid YAML: alias *loop is inside the node it refers to (&loop): a cycle",
    ]);
    expect(parseScenario("d/s.yaml", `name: bomb\n${bomb("")}\n`).problems.map(formatProblem)).toEqual([
      "d/s.yaml:4:8 invalid YAML: aliases expand beyond 1000 copies of their anchors (an alias bomb?); write the values out instead",
    ]);
  });

  it("nesting beyond the limit is located, and never overflows the stack", () => {
    const compact = `name: deep\nservices: { a: {} }\nx-list:\n  - ${"- ".repeat(40)}x\n`;
    expect(parseScenario("n.yaml", compact).problems.map(formatProblem)).toEqual([
      "n.yaml:4:1 invalid YAML: nested more than 32 levels deep; a scenario needs far fewer",
    ]);
    const deep = `name: deep\nservices: { a: {} }\ndescription: ${"[".repeat(70)}${"]".repeat(70)}\n`;
    expect(parseScenario("n.yaml", deep).problems.map(formatProblem)).toEqual([
      "n.yaml:3:46 invalid YAML: nested more than 32 levels deep; a scenario needs far fewer",
    ]);
    const deeper = `name: deep\nservices: { a: {} }\ndescription: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`;
    const { problems } = parseScenario("n.yaml", deeper);
    expect(problems).toHaveLength(1);
    expect(formatProblem(problems[0]!)).toMatch(/^n\.yaml:\d+:\d+ invalid YAML: nested /);
  });

  it("a call chain of thousands of services is refused fast, without recursion", () => {
    const services = Array.from({ length: 4000 }, (_, i) => `  s${i}: { calls: [s${i + 1}] }`).join("\n");
    const started = performance.now();
    const { problems } = parseScenario("c.yaml", `name: chain\nservices:\n${services}\n`);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(problems.map(formatProblem)).toContain("c.yaml:3:3 services: 4000 services; a scenario has at most 50");
  });

  it("a file over the size limit is refused before it is parsed", () => {
    const { problems } = parseScenario("big.yaml", `name: big\ndescription: "${"x".repeat(300 * 1024)}"\n`);
    expect(problems.map(formatProblem)).toEqual(["big.yaml:1:1 the file is 301 KiB; meshquake reads scenario and imported files of at most 128 KiB"]);
  });

  it("readScenario reads only regular files: /dev/zero would never end", async () => {
    const { problems } = await readScenario("/dev/zero");
    expect(problems.map(formatProblem)).toEqual([`/dev/zero:1:1 "/dev/zero" is not a regular file; meshquake reads only files`]);
  });
});

describe("imports stay inside the scenario's folder", () => {
  async function tree(files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "meshquake-boundary-"));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    for (const [path, target] of Object.entries(links)) await symlink(target, join(dir, path));
    return dir;
  }

  it("refuses a compose file, an env_file, an Istio file and a build context outside it, each where it is named", async () => {
    const dir = await tree({
      "outside.yml": "services:\n  api: { image: acme/api }\n",
      "s/compose.yml": "services:\n  api:\n    image: acme/api\n    expose: [8080]\n    env_file: /proc/self/environ\n",
      "s/one.yaml": "name: one\ntopology: { compose: ../outside.yml }\npolicies: { istio: [../vs.yaml] }\n",
      "s/two.yaml": "name: two\ntopology: { compose: compose.yml }\nservices:\n  web: { build: ../ctx, port: 8080 }\n",
    });
    try {
      const one = await readScenario(join(dir, "s/one.yaml"));
      expect(one.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`)).toEqual([
        `2:22 topology.compose: "${dir}/outside.yml" is outside the scenario's folder "${dir}/s"; meshquake imports only files inside it unless --allow-outside-imports is given`,
        `3:21 policies.istio[0]: "${dir}/vs.yaml" is outside the scenario's folder "${dir}/s"; meshquake imports only files inside it unless --allow-outside-imports is given`,
      ]);
      const two = await readScenario(join(dir, "s/two.yaml"));
      expect(two.problems.filter((p) => p.severity === "error").map((p) => `${p.file}:${p.line}:${p.col} ${p.path}: ${p.message}`)).toEqual([
        `${dir}/s/two.yaml:4:17 services.web.build: "${dir}/ctx" is outside the scenario's folder "${dir}/s"; meshquake imports only files inside it unless --allow-outside-imports is given`,
        `${dir}/s/compose.yml:5:15 services.api.env_file: env_file "/proc/self/environ": "/proc/self/environ" is outside the scenario's folder "${dir}/s"; meshquake imports only files inside it unless --allow-outside-imports is given`,
      ]);
      const allowed = await readScenario(join(dir, "s/one.yaml"), { allowOutsideImports: true });
      expect(allowed.problems.filter((p) => p.severity === "error").map((p) => p.message)).toEqual(["no such file (policies.istio names it)"]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("refuses a file inside the folder that is a link to one outside it", async () => {
    const dir = await tree({ "secret.env": "TOKEN=hunter2\n", "s/compose.yml": "services:\n  api:\n    image: acme/api\n    expose: [80]\n    env_file: app.env\n", "s/s.yaml": "name: linked\ntopology: { compose: compose.yml }\n" }, { "s/app.env": "../secret.env" });
    try {
      const { scenario, problems } = await readScenario(join(dir, "s/s.yaml"));
      expect(scenario).toBeNull();
      expect(problems.map((p) => p.message)).toEqual([
        `env_file "app.env": "${dir}/s/app.env" is a link that leads outside the scenario's folder "${dir}/s" (to ${await realpath(join(dir, "secret.env"))}); meshquake imports only files inside it unless --allow-outside-imports is given`,
      ]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
