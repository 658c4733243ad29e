// The pipeline's layering, checked on the imports themselves: a pure core (the report model,
// scenario, plan, the data plane's rendering, observe, verdict, record, the reporters) that touches no engine and no
// network, I/O at the edges (runtime, load, faults' injectors, run, cli), and a judge that a
// machine without Docker can run. An import against it fails here, naming the file.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve("src");

interface Import {
  target: string;
  /** `import type`: erased when compiled, so it loads nothing. */
  typeOnly: boolean;
}

/** Every non-test module of src/, relative to it, with what it imports (relative modules resolved, packages by name). */
function importGraph(): Map<string, Import[]> {
  const graph = new Map<string, Import[]>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".ts") && !name.endsWith(".test.ts")) {
        const text = readFileSync(path, "utf8");
        const found = [...text.matchAll(/^(import|export)(\s+type)?\b[^;]*?\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm)];
        graph.set(
          relative(SRC, path),
          found.map((m) => {
            const spec = (m[3] ?? m[4])!;
            const target = spec.startsWith(".")
              ? relative(SRC, resolve(dirname(path), spec)).replace(/\.js$/, ".ts")
              : `pkg:${spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]}`;
            return { target, typeOnly: m[2] !== undefined };
          }),
        );
      }
    }
  };
  walk(SRC);
  return graph;
}

const graph = importGraph();
const folderOf = (module: string) => module.split("/")[0]!;

/** Packages that reach an engine or the network. */
const IO_PACKAGES = ["pkg:dockerode", "pkg:undici", "pkg:autocannon", "pkg:p-queue"];
/** The gRPC libraries: protobufjs alone costs `validate` more than its whole budget allows. */
const GRPC_PACKAGES = ["pkg:@grpc/proto-loader", "pkg:@grpc/grpc-js", "pkg:protobufjs"];
/** The I/O edge: folders the pure core must not import. */
const EDGE_FOLDERS = ["runtime", "run", "cli", "load", "library", "toxiproxy"];
/** Pure modules living in an edge folder, which the core may use. */
const PURE_EDGE_MODULES = new Set(["runtime/labels.ts", "load/load-types.ts", "load/load-record.ts", "load/request-id.ts", "load/arrivals.ts"]);
const CORE = ["model", "scenario", "plan", "dataplane", "observe", "verdict", "record", "report"];

/** Imports of `modules` that `forbidden` names; type-only ones too unless `loaded` (what runs). */
function violations(modules: Iterable<string>, forbidden: (target: string) => boolean, loaded = false): string[] {
  const out: string[] = [];
  for (const m of modules) for (const i of graph.get(m) ?? []) if (!(loaded && i.typeOnly) && forbidden(i.target)) out.push(`${m} imports ${i.target}`);
  return out;
}

/** Every module `entry` loads when it runs, itself included (type-only imports load nothing). */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (m: string) => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const i of graph.get(m) ?? []) if (!i.typeOnly && !i.target.startsWith("pkg:")) visit(i.target);
  };
  visit(entry);
  return seen;
}

describe("the pipeline's layering", () => {
  it("reads the imports it checks (the graph is not empty, and knows the run's modules)", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("run/run-scenario.ts")).toContainEqual({ target: "run/judge-run.ts", typeOnly: false });
  });

  it("the pure core imports no engine, network client or edge module", () => {
    const core = [...graph.keys()].filter((m) => CORE.includes(folderOf(m)));
    const bad = violations(core, (t) => IO_PACKAGES.includes(t) || (EDGE_FOLDERS.includes(folderOf(t)) && !PURE_EDGE_MODULES.has(t)));
    // scenario/hostile-cases.ts is a generator script (npx tsx) that runs the CLI's validation over its corpus.
    expect(bad.filter((b) => !b.startsWith("scenario/hostile-cases.ts imports cli/"))).toEqual([]);
  });

  it("reporters render the report model alone: nothing from the engine, the load, the run or the fault injectors", () => {
    const reporters = [...graph.keys()].filter((m) => folderOf(m) === "report");
    const pureFaults = new Set(["faults/span.ts", "faults/kinds.ts"]);
    expect(violations(reporters, (t) => ["runtime", "run", "cli", "load", "library"].includes(folderOf(t)) || (folderOf(t) === "faults" && !pureFaults.has(t)))).toEqual([]);
  });

  it("the report model is the ground floor: it imports only the scenario's types, and no core module imports a reporter", () => {
    const model = [...graph.keys()].filter((m) => folderOf(m) === "model");
    expect(model.length).toBeGreaterThan(0);
    expect(violations(model, (t) => folderOf(t) !== "model" && t !== "scenario/types.ts")).toEqual([]);
    const core = [...graph.keys()].filter((m) => CORE.includes(folderOf(m)) && folderOf(m) !== "report");
    expect(violations(core, (t) => folderOf(t) === "report")).toEqual([]);
  });

  it("the judge, and `meshquake judge` with it, load no Docker client and no load generator", () => {
    for (const entry of ["run/judge-run.ts", "cli/judge-command.ts"]) {
      const modules = closure(entry);
      expect(violations(modules, (t) => IO_PACKAGES.includes(t), true), entry).toEqual([]);
      expect([...modules].filter((m) => ["runtime", "load"].includes(folderOf(m)) && !PURE_EDGE_MODULES.has(m)), entry).toEqual([]);
    }
  });

  it("`meshquake validate` loads only the parser, the schema and the plan: no histogram, compression, engine or load library", () => {
    const modules = closure("cli/validate.ts");
    const heavy = [...IO_PACKAGES, ...GRPC_PACKAGES, "pkg:hdr-histogram-js", "pkg:pako", "pkg:testcontainers", "pkg:toxiproxy-node-client"];
    // Its CPU budget (0.5 s, bench/cli-start.bench.ts) leaves no room for them.
    expect(violations(modules, (t) => heavy.includes(t), true)).toEqual([]);
  });

  it("only the CLI and the package's entry import the CLI", () => {
    const outside = [...graph.keys()].filter((m) => folderOf(m) !== "cli" && m !== "index.ts" && m !== "scenario/hostile-cases.ts");
    expect(violations(outside, (t) => folderOf(t) === "cli")).toEqual([]);
  });
});
