// `topology.compose` and `policies.istio`: the imported services, policies and faults merged into
// the scenario as if it had written them, so one set of cross-checks and one resolve step serve
// every scenario. The scenario's own entries win, field by field; a SourceMap remembers where each
// imported part is written, so later findings point into the compose or Istio file.
import { dirname, join, posix, relative } from "node:path";
import { importCompose } from "./compose-import.js";
import { explainIssues, PARSE_OPTIONS } from "./explain-issues.js";
import { error, warning, type Finding } from "./finding.js";
import { referencedPath, type ImportBoundary } from "./import-boundary.js";
import { importIstio } from "./istio-import.js";
import { LIMITS } from "./limits.js";
import { PROTOCOLS, type Protocol } from "./protocols.js";
import { asList, asMap } from "./scenario-parts.js";
import { problemIn, type FileReader, type SourceMap } from "./source-file.js";
import { policySchema, serviceSchema, type ServiceSpec } from "./spec.js";
import type { Problem } from "./types.js";
import { quoteList } from "./wording.js";

export interface Imported {
  /** The scenario document with imported services, policies and faults merged in. */
  data: unknown;
  /** Problems located in the imported files. */
  problems: Problem[];
  /** Findings about the merge itself, as paths of the scenario document. */
  findings: Finding[];
}

/**
 * `read` must already refuse what `boundary` refuses (parseScenario guards it); the files the
 * scenario names are checked here as well, so a refusal points at where the scenario names them.
 */
export function applyImports(file: string, data: unknown, read: FileReader, sources: SourceMap, boundary: ImportBoundary): Imported {
  const root = asMap(data);
  const problems: Problem[] = [];
  const findings: Finding[] = [];
  let merged: Record<string, unknown> = root;

  const compose = asMap(root.topology).compose;
  if (typeof compose === "string" && compose !== "") {
    const refused = boundary.check(referencedPath(file, compose));
    if (refused !== null) findings.push(error(["topology", "compose"], refused));
    else merged = { ...merged, services: mergeCompose(file, compose, root, read, sources, problems, findings) };
  }

  const istio = asMap(root.policies).istio;
  // Past the limit (the schema says so) nothing is imported: each file is read and parsed.
  if (Array.isArray(istio) && istio.length <= LIMITS.istioFiles && istio.every((f) => typeof f === "string")) {
    const services = Object.keys(asMap(merged.services));
    // Subsets are imported as the versions of the same name the scenario gives a service.
    const versions = Object.fromEntries(services.map((s) => [s, Object.keys(asMap(asMap(asMap(merged.services)[s]).versions))]));
    const files = istio.flatMap((f, i) => {
      const path = referencedPath(file, f);
      const refused = boundary.check(path);
      if (refused !== null) findings.push(error(["policies", "istio", i], refused));
      return refused === null ? [path] : [];
    });
    const imported = importIstio(files, read, services, versions, statedProtocols(asMap(merged.services)));
    problems.push(...imported.problems);
    merged = { ...merged, services: mergeProtocols(asMap(merged.services), imported, sources, findings) };
    const own = asMap(root.policies);
    const policies: Record<string, unknown> = {};
    for (const [service, policy] of Object.entries(imported.policies)) {
      const written = own[service];
      const ownPolicy = asMap(written);
      const fields = Object.keys(policy).filter((k) => !Object.hasOwn(ownPolicy, k));
      for (const k of Object.keys(policy).filter((k) => Object.hasOwn(ownPolicy, k))) {
        const from = imported.policyOrigins.get(`${service}.${k}`) ?? imported.policyOrigins.get(service);
        const where = from ? ` imported from ${from.source.file}` : "";
        findings.push(warning(["policies", service, k], `overrides the ${k}${where}`, { at: "key" }));
      }
      policies[service] = { ...Object.fromEntries(fields.map((k) => [k, policy[k as keyof typeof policy]])), ...ownPolicy };
      // Where each imported field is written; a policy the scenario does not mention at all lives in the Istio file.
      const base = imported.policyOrigins.get(service);
      if (written === undefined && base) sources.add(["policies", service], base.source, base.path);
      for (const [key, at] of imported.policyOrigins) {
        const [svc, ...field] = key.split(".");
        if (svc !== service || field.length === 0 || !fields.includes(field[0]!)) continue;
        sources.add(["policies", service, ...field], at.source, at.path);
      }
      // A policy the import made must still be valid as meshquake reads it (e.g. 25 retries).
      for (const f of validateAgainst(policySchema, Object.fromEntries(fields.map((k) => [k, policy[k as keyof typeof policy]])))) {
        const { source, path } = sources.resolve(["policies", service, ...f.path]);
        problems.push(problemIn(source, { ...f, path }));
      }
    }
    const { istio: _files, ...ownPolicies } = own;
    const faults = asList(root.faults);
    imported.faults.forEach((fault, i) => {
      const at = imported.faultOrigins[i]!;
      sources.add(["faults", faults.length + i], at.source, at.path);
    });
    merged = {
      ...merged,
      policies: { ...policies, ...Object.fromEntries(Object.entries(ownPolicies).filter(([k]) => !Object.hasOwn(policies, k))) },
      faults: [...faults, ...imported.faults],
    };
    const missing = services.filter((s) => !Object.hasOwn(imported.policies, s) && !Object.hasOwn(ownPolicies, s));
    if (missing.length > 0 && services.length > 1 && files.length > 0) {
      findings.push(
        warning(
          ["policies", "istio"],
          `no VirtualService names ${quoteList(missing)}: Istio would still retry calls to them twice (its default retry policy), ` +
            "while meshquake gives them a plain proxy with no retries; import a VirtualService for them to compare like with like",
          { at: "key" },
        ),
      );
    }
  }
  findings.push(...buildContextFindings(file, asMap(merged.services), boundary));
  findings.push(...protoFindings(file, asMap(root.load).proto, read, boundary));
  return { data: merged, problems, findings };
}

/**
 * A gRPC load's proto: inside the scenario's folder, and there. Only read, not parsed: the method
 * and message are checked against it when the load is prepared (protobufjs stays out of validate).
 */
function protoFindings(file: string, proto: unknown, read: FileReader, boundary: ImportBoundary): Finding[] {
  if (typeof proto !== "string" || proto === "") return [];
  const path = referencedPath(file, proto);
  const refused = boundary.check(path);
  if (refused !== null) return [error(["load", "proto"], refused)];
  try {
    return read(path) === null ? [error(["load", "proto"], `no such file: ${JSON.stringify(path)} (relative to the scenario's folder)`)] : [];
  } catch (err) {
    return [error(["load", "proto"], err instanceof Error ? err.message : String(err))];
  }
}

/** The protocols the scenario (or its compose file) states, valid ones only. */
function statedProtocols(services: Record<string, unknown>): Record<string, Protocol> {
  const out: Record<string, Protocol> = {};
  for (const [name, service] of Object.entries(services)) {
    const protocol = asMap(service).protocol;
    if (typeof protocol === "string" && (PROTOCOLS as readonly string[]).includes(protocol)) out[name] = protocol as Protocol;
  }
  return out;
}

/** A Service's protocol where the scenario states none; where it states another, the scenario's wins, with a word. */
function mergeProtocols(
  services: Record<string, unknown>,
  imported: ReturnType<typeof importIstio>,
  sources: SourceMap,
  findings: Finding[],
): Record<string, unknown> {
  const out = { ...services };
  for (const [name, protocol] of Object.entries(imported.protocols)) {
    const origin = imported.protocolOrigins.get(name)!;
    const own = asMap(services[name]).protocol;
    if (own === undefined) {
      Object.defineProperty(out, name, { value: { ...asMap(services[name]), protocol }, enumerable: true, writable: true, configurable: true });
      sources.add(["services", name, "protocol"], origin.source, origin.path);
    } else if (own !== protocol) {
      findings.push(warning(["services", name, "protocol"], `overrides the protocol ${protocol} imported from ${origin.source.file}`, { at: "key" }));
    }
  }
  return out;
}

/** Build contexts inside the scenario's folder, and each Dockerfile inside its context (as Docker requires). */
function buildContextFindings(file: string, services: Record<string, unknown>, boundary: ImportBoundary): Finding[] {
  const findings: Finding[] = [];
  for (const [name, service] of Object.entries(services)) {
    const build = asMap(service).build;
    const spec = typeof build === "string" ? { context: build } : asMap(build);
    if (typeof spec.context !== "string" || spec.context === "") continue;
    const path = ["services", name, "build", ...(typeof build === "string" ? [] : ["context"])];
    const refused = boundary.check(referencedPath(file, spec.context));
    if (refused !== null) findings.push(error(path, refused));
    if (typeof spec.dockerfile === "string" && escapesContext(spec.dockerfile)) {
      findings.push(error(["services", name, "build", "dockerfile"], `the Dockerfile must be inside the build context (as Docker requires), found ${JSON.stringify(spec.dockerfile)}`));
    }
  }
  return findings;
}

function escapesContext(dockerfile: string): boolean {
  const normal = posix.normalize(dockerfile.split("\\").join("/"));
  return normal === ".." || normal.startsWith("../") || normal.startsWith("/");
}

/** The compose file's services, each overridden field by field by the scenario's own services.<name>. */
function mergeCompose(
  file: string,
  ref: string,
  root: Record<string, unknown>,
  read: FileReader,
  sources: SourceMap,
  problems: Problem[],
  findings: Finding[],
): Record<string, unknown> {
  const composeFile = referencedPath(file, ref);
  const imported = importCompose(composeFile, read);
  problems.push(...imported.problems);
  const own = asMap(root.services);
  const out: Record<string, unknown> = {};
  const source = imported.source;
  for (const [name, spec] of Object.entries(imported.services)) {
    const rebased = rebaseBuild(spec, dirname(composeFile), dirname(file));
    const ownService = own[name];
    const overrides = asMap(ownService);
    const fields = (Object.keys(rebased) as (keyof ServiceSpec)[]).filter((k) => !Object.hasOwn(overrides, k));
    const fromCompose = Object.fromEntries(fields.map((k) => [k, rebased[k]]));
    // env merges key by key, the scenario's values winning; every other field is replaced whole.
    const env = rebased.env && overrides.env ? { env: { ...rebased.env, ...asMap(overrides.env) } } : {};
    out[name] = { ...fromCompose, ...overrides, ...env };
    if (source === null) continue;
    if (ownService === undefined) sources.add(["services", name], source, ["services", name]);
    const paths = imported.fieldPaths.get(name) ?? {};
    for (const field of fields) {
      const at = paths[field];
      if (at) sources.add(["services", name, field], source, at);
    }
    for (const f of validateAgainst(serviceSchema, fromCompose)) {
      const { source: s, path } = sources.resolve(["services", name, ...f.path]);
      problems.push(problemIn(s, { ...f, path }));
    }
  }
  const unknown = Object.keys(own).filter((name) => !Object.hasOwn(imported.services, name));
  for (const name of Object.keys(own)) if (!Object.hasOwn(out, name)) Object.defineProperty(out, name, { value: own[name], enumerable: true, writable: true, configurable: true });
  if (source !== null && unknown.length > 0) {
    for (const name of unknown) {
      const service = asMap(own[name]);
      if (Object.keys(service).length > 0 && !("image" in service) && !("build" in service) && !("calls" in service) && !("latency" in service)) {
        findings.push(
          warning(
            ["services", name],
            `"${name}" is not a service of ${composeFile} (${quoteList(Object.keys(imported.services))}), so it runs the built-in fixture`,
            { at: "key" },
          ),
        );
      }
    }
  }
  return out;
}

/** A compose build context is relative to the compose file; the merged scenario's are relative to the scenario. */
function rebaseBuild(spec: ServiceSpec, from: string, to: string): ServiceSpec {
  const build = spec.build;
  if (build === undefined) return spec;
  const rebase = (context: string) => (context.startsWith("/") ? context : relative(to, join(from, context)) || ".");
  return { ...spec, build: typeof build === "string" ? rebase(build) : { ...build, context: rebase(build.context) } };
}

/** Findings for a value that must parse with `schema`, as paths below it. */
function validateAgainst(schema: typeof serviceSchema | typeof policySchema, value: unknown): Finding[] {
  const parsed = schema.safeParse(value, PARSE_OPTIONS);
  return parsed.success ? [] : explainIssues(parsed.error.issues, schema, value);
}
