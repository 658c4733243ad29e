// docker-compose.yml → the services a scenario would write. What compose says and meshquake
// honours is carried over (images, builds, commands, environment, healthchecks, depends_on,
// replicas); everything else is a located warning, never silently dropped. Pure: files are read
// through the injected reader.
import { dirname, isAbsolute, join } from "node:path";
import { interpolate, parseEnvFile, type EnvFile } from "./compose-env.js";
import { serviceNameProblem, type ServiceSpec } from "./spec.js";
import { error, warning, type Finding } from "./finding.js";
import type { DocPath } from "./locate.js";
import { asList, asMap } from "./scenario-parts.js";
import { fileProblem, parseYamlFile, problemIn, readReferenced, type FileReader, type SourceFile } from "./source-file.js";
import type { Problem } from "./types.js";
import { describeValue, quoteList } from "./wording.js";
import { composeProtocol, containerPortOf } from "./compose-ports.js";

export { containerPortOf };

export interface ComposeImport {
  /** Each service as a scenario would write it, in file order; paths stay relative to the compose file. */
  services: Record<string, ServiceSpec>;
  problems: Problem[];
  /** The compose document; null when the file could not be read or parsed. */
  source: SourceFile | null;
  /** Per service, where each scenario field it produced is written in the compose file. */
  fieldPaths: Map<string, Partial<Record<keyof ServiceSpec, DocPath>>>;
}

/** Ports, volumes, networks...: why meshquake does not honour them, one line each. */
const NOT_HONOURED: Record<string, string> = {
  ports:
    "published ports are not honoured: meshquake publishes only the load target's inbound listener, on 127.0.0.1 " +
    "(the container port is taken as the app's port when nothing else names it)",
  volumes: "volumes are not mounted: each replica starts from its image alone",
  volumes_from: "volumes are not mounted: each replica starts from its image alone",
  tmpfs: "tmpfs mounts are not created",
  networks: "every service joins the run's one network, where service names resolve; networks and their aliases are not created",
  network_mode: "each replica joins its pod's network namespace (the sidecar's interception lives there), so network_mode cannot apply",
  links: "not needed: service names resolve on the run's network",
  external_links: "containers outside the run are not reachable by name",
  extra_hosts: "extra /etc/hosts entries are not added",
  dns: "the run's network uses Docker's DNS",
  dns_search: "the run's network uses Docker's DNS",
  dns_opt: "the run's network uses Docker's DNS",
  container_name: "meshquake names containers <run>-<service>-<replica>[-app]",
  hostname: "the hostname is the replica's id, <service>-<index>",
  domainname: "the hostname is the replica's id, <service>-<index>",
  restart: "meshquake never restarts an app by itself; kill faults decide when an app comes back",
  labels: "the app container carries meshquake's labels only (the label meshquake.protocol is read as the service's protocol)",
  cap_add: "the app runs without extra capabilities (NET_ADMIN would let it rewrite the pod's interception rules)",
  cap_drop: "capabilities are not changed",
  privileged: "the app never runs privileged: it could rewrite the pod's interception rules",
  security_opt: "security options are not applied",
  devices: "devices are not passed through",
  sysctls: "sysctls would apply to the pod's shared network namespace; not applied",
  ulimits: "ulimits are not changed",
  pid: "namespaces other than the pod's network namespace are not shared",
  ipc: "namespaces other than the pod's network namespace are not shared",
  init: "no init process is added",
  shm_size: "the default /dev/shm size is used",
  stop_signal: "teardown removes containers with force",
  stop_grace_period: "teardown removes containers with force",
  tty: "apps run without a terminal",
  stdin_open: "apps run without stdin",
  logging: "the app's output is not collected (only the sidecars' logs are)",
  platform: "images are built and run for this machine's platform",
  pull_policy: "nothing is ever pulled: images must exist locally or be built",
  profiles: "every service of the file is meshed; profiles are not applied",
  secrets: "secrets are not mounted",
  configs: "configs are not mounted",
  cgroup_parent: "cgroup settings are not applied",
  read_only: "the root filesystem stays writable",
  mem_limit: "resource limits are not applied",
  memswap_limit: "resource limits are not applied",
  mem_reservation: "resource limits are not applied",
  cpus: "resource limits are not applied",
  cpu_shares: "resource limits are not applied",
  cpuset: "resource limits are not applied",
  oom_score_adj: "resource limits are not applied",
  runtime: "the default container runtime is used",
  userns_mode: "user namespaces are not changed",
  isolation: "the default isolation is used",
  develop: "compose watch is a development loop, not part of a run",
  attach: "the app's output is not collected",
};

const TOP_LEVEL_NOT_HONOURED: Record<string, string> = {
  networks: "the run creates one network of its own; these networks are not created",
  volumes: "volumes are not created or mounted",
  secrets: "secrets are not mounted",
  configs: "configs are not mounted",
};

const HEALTHCHECK_TIMING = ["interval", "timeout", "retries", "start_period", "start_interval"] as const;

export function importCompose(file: string, read: FileReader): ComposeImport {
  const empty = (problems: Problem[]): ComposeImport => ({ services: {}, problems, source: null, fieldPaths: new Map() });
  const text = readReferenced(read, file);
  if ("missing" in text) return empty([fileProblem(file, "no such file (topology.compose names it)")]);
  if ("refused" in text) return empty([fileProblem(file, text.refused)]);
  const parsed = parseYamlFile(file, text.text, { merge: true });
  const source = parsed.documents[0];
  if (source === undefined) return empty(parsed.problems);

  const findings: Finding[] = [];
  const extraProblems: Problem[] = [...parsed.problems];
  const dotEnv = readDotEnv(join(dirname(file), ".env"), read, extraProblems);
  const data = interpolateAll(source.data, [], dotEnv, findings);
  const root = asMap(data);
  if (data === null || data === undefined || typeof data !== "object" || Array.isArray(data)) {
    return { ...empty([...extraProblems, problemIn(source, error([], `expected a compose file with "services", found ${describeValue(data)}`))]), source };
  }

  for (const key of Object.keys(root)) {
    if (key === "services" || key === "version" || key === "name" || key.startsWith("x-")) continue;
    if (key === "include") findings.push(error([key], "include is not supported: merge the included files into this one", { at: "key" }));
    else findings.push(warning([key], `${TOP_LEVEL_NOT_HONOURED[key] ?? "not supported by meshquake; ignored"}`, { at: "key" }));
  }
  const bodies = asMap(root.services);
  const names = Object.keys(bodies);
  if (names.length === 0) findings.push(error(root.services === undefined ? [] : ["services"], `a compose file needs at least one service under "services"`));

  const services: Record<string, ServiceSpec> = {};
  const fieldPaths = new Map<string, Partial<Record<keyof ServiceSpec, DocPath>>>();
  const context: ServiceContext = { file, read, findings, extraProblems, names, known: new Set(names), dotEnv };
  for (const name of names) {
    const path = ["services", name];
    const badName = serviceNameProblem(name);
    if (badName !== undefined) {
      findings.push(error(path, badName, { at: "key" }));
      continue;
    }
    const imported = importService(name, asMap(bodies[name]), bodies[name], path, context);
    if (imported === null) continue;
    services[name] = imported.spec;
    fieldPaths.set(name, imported.paths);
  }
  // A definition shared through a `<<: *anchor` merge is reported once, where it is written.
  const seen = new Set<string>();
  const problems = findings
    .map((f) => problemIn(source, f))
    .filter((p) => {
      const key = `${p.line}:${p.col}:${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  return { services, problems: [...extraProblems, ...problems], source, fieldPaths };
}

interface ServiceContext {
  file: string;
  read: FileReader;
  findings: Finding[];
  extraProblems: Problem[];
  names: string[];
  known: ReadonlySet<string>;
  /** The .env file's variables: env_file values are interpolated with them. */
  dotEnv: Record<string, string>;
}

function importService(
  name: string,
  body: Record<string, unknown>,
  raw: unknown,
  path: DocPath,
  ctx: ServiceContext,
): { spec: ServiceSpec; paths: Partial<Record<keyof ServiceSpec, DocPath>> } | null {
  const { findings } = ctx;
  if (raw !== null && (typeof raw !== "object" || Array.isArray(raw))) {
    findings.push(error(path, `expected a service definition (a map), found ${describeValue(raw)}`));
    return null;
  }
  const spec: ServiceSpec = {};
  const paths: Partial<Record<keyof ServiceSpec, DocPath>> = {};
  const at = (key: string): DocPath => [...path, key];
  const set = <K extends keyof ServiceSpec>(field: K, value: ServiceSpec[K], from: DocPath) => {
    spec[field] = value;
    paths[field] = from;
  };
  const handled = new Set<string>();
  const handle = (key: string) => handled.add(key);

  // --- what runs -----------------------------------------------------------------------------
  handle("image");
  handle("build");
  if (body.build !== undefined) {
    const build = importBuild(body.build, at("build"), findings);
    if (build !== null) set("build", build, at("build"));
  } else if (typeof body.image === "string" && body.image !== "") {
    set("image", body.image, at("image"));
  } else if (body.image !== undefined) {
    findings.push(error(at("image"), `expected an image reference, found ${describeValue(body.image)}`));
  }
  if (body.image === undefined && body.build === undefined) {
    findings.push(error(path, `"${name}" has neither "image" nor "build", so there is nothing to run`, { at: "key" }));
  }
  if (body.extends !== undefined) {
    handle("extends");
    findings.push(error(at("extends"), "extends is not supported: write the service out in full", { at: "key" }));
  }

  for (const key of ["command", "entrypoint"] as const) {
    handle(key);
    if (body[key] === undefined || body[key] === null) continue;
    const list = commandOf(body[key], at(key), findings);
    if (list !== null) set(key, list, at(key));
  }

  handle("environment");
  handle("env_file");
  const env = { ...envFiles(body.env_file, at("env_file"), ctx), ...environmentOf(body.environment, at("environment"), findings) };
  if (Object.keys(env).length > 0) set("env", env, body.environment !== undefined ? at("environment") : at("env_file"));

  handle("user");
  if (body.user !== undefined) set("user", String(body.user), at("user"));
  handle("working_dir");
  if (typeof body.working_dir === "string") set("workingDir", body.working_dir, at("working_dir"));

  // --- readiness, order, replicas ------------------------------------------------------------
  handle("healthcheck");
  const health = healthOf(body.healthcheck, at("healthcheck"), findings);
  if (health !== null) set("health", health, at("healthcheck"));

  handle("depends_on");
  const dependsOn = dependsOnOf(name, body.depends_on, at("depends_on"), ctx);
  if (dependsOn.length > 0) {
    set("dependsOn", dependsOn, at("depends_on"));
    // What a service waits for is, nearly always, what it calls: the edges the report shows.
    set("calls", dependsOn, at("depends_on"));
  }

  handle("deploy");
  handle("scale");
  const deploy = asMap(body.deploy);
  for (const key of Object.keys(deploy)) {
    if (key !== "replicas") findings.push(warning([...path, "deploy", key], `deploy.${key} is not honoured: only deploy.replicas is`, { at: "key" }));
  }
  if (deploy.replicas !== undefined) set("replicas", deploy.replicas as number, [...path, "deploy", "replicas"]);
  else if (body.scale !== undefined) set("replicas", body.scale as number, at("scale"));
  if (deploy.replicas !== undefined && body.scale !== undefined && deploy.replicas !== body.scale) {
    findings.push(warning(at("scale"), `scale ${describeValue(body.scale)} differs from deploy.replicas ${describeValue(deploy.replicas)}; deploy.replicas is used`));
  }

  // --- the port ------------------------------------------------------------------------------
  handle("expose");
  handle("ports");
  const exposed = asList(body.expose).map(containerPortOf).filter((p): p is number => p !== null);
  const published = asList(body.ports).map(containerPortOf).filter((p): p is number => p !== null);
  if (body.ports !== undefined) findings.push(warning(at("ports"), NOT_HONOURED.ports!, { at: "key" }));
  const port = exposed[0] ?? published[0] ?? portFromEnv(env);
  const portPath = exposed[0] !== undefined ? at("expose") : published[0] !== undefined ? at("ports") : at("environment");
  if (port !== null) set("port", port, portPath);
  else {
    findings.push(
      warning(
        path,
        `no port found for "${name}" (no expose, ports or PORT in its environment); assuming 8080. ` +
          `Name it with expose: ["<port>"], or with port in the scenario's services.${name}`,
        { at: "key" },
      ),
    );
  }
  const ports = new Set([...exposed, ...published]);
  if (ports.size > 1) {
    findings.push(
      warning(body.expose !== undefined ? at("expose") : at("ports"), `meshquake meshes one port per service, ${port ?? 8080}; ${[...ports].filter((p) => p !== port).join(", ")} not meshed`),
    );
  }

  // --- the protocol --------------------------------------------------------------------------
  const stated = composeProtocol(name, body, path, port ?? 8080, findings);
  if (stated.protocol !== null) set("protocol", stated.protocol.value, stated.protocol.path);
  if (stated.labelsRead) handle("labels");

  // --- everything else -----------------------------------------------------------------------
  for (const key of Object.keys(body)) {
    if (handled.has(key) || key.startsWith("x-")) continue;
    findings.push(warning(at(key), `${key} ${NOT_HONOURED[key] ? `is not honoured: ${NOT_HONOURED[key]}` : "is not supported by meshquake; ignored"}`, { at: "key" }));
  }
  return { spec, paths };
}

function importBuild(raw: unknown, path: DocPath, findings: Finding[]): ServiceSpec["build"] | null {
  if (typeof raw === "string") return isRemote(raw, path, findings) ? null : raw;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    findings.push(error(path, `expected a build context folder or { context, dockerfile }, found ${describeValue(raw)}`));
    return null;
  }
  const build = raw as Record<string, unknown>;
  const context = build.context === undefined ? "." : String(build.context);
  if (isRemote(context, [...path, "context"], findings)) return null;
  const out: Exclude<ServiceSpec["build"], string | undefined> = { context };
  if (build.dockerfile !== undefined) out.dockerfile = String(build.dockerfile);
  if (build.target !== undefined) out.target = String(build.target);
  if (build.args !== undefined) {
    const args = keyValues(build.args, [...path, "args"], findings, "build arg");
    if (Object.keys(args).length > 0) out.args = args;
  }
  for (const key of Object.keys(build)) {
    if (["context", "dockerfile", "target", "args"].includes(key) || key.startsWith("x-")) continue;
    findings.push(warning([...path, key], `build.${key} is not honoured: meshquake builds with context, dockerfile, args and target only`, { at: "key" }));
  }
  return out;
}

function isRemote(context: string, path: DocPath, findings: Finding[]): boolean {
  if (!/^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i.test(context)) return false;
  findings.push(error(path, `a remote build context (${JSON.stringify(context)}) cannot be fetched here; use a local folder`));
  return true;
}

/** Exec form as written; a string is split like a shell would (compose does the same, without running a shell). */
function commandOf(raw: unknown, path: DocPath, findings: Finding[]): string[] | null {
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw === "string") {
    const words = shellWords(raw);
    if (words === null) {
      findings.push(error(path, `unbalanced quotes in ${describeValue(raw)}`));
      return null;
    }
    return words;
  }
  findings.push(error(path, `expected a command as a string or a list, found ${describeValue(raw)}`));
  return null;
}

/** Splits like a POSIX shell: quotes group words, backslash escapes; null on an unclosed quote. */
export function shellWords(text: string): string[] | null {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = findClosingQuote(text, i);
      if (end === -1) return null;
      const body = text.slice(i + 1, end);
      word += c === '"' ? body.replace(/\\(["\\$`])/g, "$1") : body;
      inWord = true;
      i = end;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function findClosingQuote(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** environment: as a map or as a list of KEY=VALUE; a KEY without value would come from the shell. */
function environmentOf(raw: unknown, path: DocPath, findings: Finding[]): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  return keyValues(raw, path, findings, "variable");
}

function keyValues(raw: unknown, path: DocPath, findings: Finding[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  const fromShell = (key: string, at: DocPath) =>
    findings.push(
      warning(at, `${what} ${key} has no value, so compose would take it from your shell; meshquake does not read your environment. Give it a value`),
    );
  // Assigning out["__proto__"] would replace the prototype and lose the variable without a word.
  const lost = (key: string, at: DocPath) => findings.push(error(at, `"__proto__" cannot be a ${what} name here (it would be lost on the way); rename it`));
  if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      const text = String(item);
      const eq = text.indexOf("=");
      if (eq === -1) fromShell(text, [...path, i]);
      else if (text.slice(0, eq) === "__proto__") lost(text, [...path, i]);
      else out[text.slice(0, eq)] = text.slice(eq + 1);
    });
    return out;
  }
  if (typeof raw === "object" && raw !== null) {
    for (const [key, value] of Object.entries(raw)) {
      if (key === "__proto__") lost(key, [...path, key]);
      else if (value === null || value === undefined) fromShell(key, [...path, key]);
      else out[key] = typeof value === "object" ? JSON.stringify(value) : String(value);
    }
    return out;
  }
  findings.push(error(path, `expected a map or a list of KEY=VALUE, found ${describeValue(raw)}`));
  return out;
}

/** env_file: one file or a list (short or long syntax), relative to the compose file; environment wins over them. */
function envFiles(raw: unknown, path: DocPath, ctx: ServiceContext): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  const entries = Array.isArray(raw) ? raw : [raw];
  const out: Record<string, string> = {};
  entries.forEach((entry, i) => {
    const at = Array.isArray(raw) ? [...path, i] : path;
    const spec = typeof entry === "string" ? { path: entry, required: true } : asMap(entry);
    const relative = String(spec.path ?? "");
    const file = isAbsolute(relative) ? relative : join(dirname(ctx.file), relative);
    const text = readReferenced(ctx.read, file);
    if ("refused" in text) {
      ctx.findings.push(error(at, `env_file ${JSON.stringify(relative)}: ${text.refused}`));
      return;
    }
    if ("missing" in text) {
      if (spec.required !== false) ctx.findings.push(error(at, `env_file ${JSON.stringify(relative)} does not exist (looked for ${file})`));
      return;
    }
    const parsed = parseEnvFile(text.text, ctx.dotEnv);
    ctx.extraProblems.push(...envFileProblems(file, parsed));
    Object.assign(out, parsed.values);
  });
  return out;
}

function envFileProblems(file: string, parsed: EnvFile): Problem[] {
  return parsed.problems.map((p) => ({ severity: p.severity, file, line: p.line, col: p.col, path: "", message: p.message }));
}

function readDotEnv(file: string, read: FileReader, problems: Problem[]): Record<string, string> {
  const text = readReferenced(read, file);
  if ("missing" in text) return {};
  if ("refused" in text) {
    problems.push(fileProblem(file, text.refused));
    return {};
  }
  const parsed = parseEnvFile(text.text);
  problems.push(...envFileProblems(file, parsed));
  return parsed.values;
}

/**
 * healthcheck.test → how the mesh waits for the app: the same command, run in the app container.
 * "NONE" or disable: true leave the default (a TCP connect to the port).
 */
function healthOf(raw: unknown, path: DocPath, findings: Finding[]): ServiceSpec["health"] | null {
  if (raw === undefined || raw === null) return null;
  const hc = asMap(raw);
  const timing = Object.keys(hc).filter((k) => (HEALTHCHECK_TIMING as readonly string[]).includes(k));
  if (timing.length > 0) {
    findings.push(
      warning(
        [...path, timing[0]!],
        `healthcheck ${timing.join(", ")} ${timing.length === 1 ? "is" : "are"} not honoured: meshquake runs the test only to know ` +
          "when the app is ready (every 100 ms, for up to 30 s), and does not keep checking during the run",
        { at: "key" },
      ),
    );
  }
  for (const key of Object.keys(hc)) {
    if ((HEALTHCHECK_TIMING as readonly string[]).includes(key)) continue;
    if (key !== "test" && key !== "disable") {
      findings.push(warning([...path, key], `healthcheck.${key} is not supported by meshquake; ignored`, { at: "key" }));
    }
  }
  if (hc.disable === true) return null;
  const test = hc.test;
  if (test === undefined) return null;
  if (typeof test === "string") return { command: ["sh", "-c", test] };
  if (!Array.isArray(test) || test.length === 0) {
    findings.push(error([...path, "test"], `expected a command string or ["CMD", ...] / ["CMD-SHELL", "..."], found ${describeValue(test)}`));
    return null;
  }
  const [kind, ...rest] = test.map(String);
  if (kind === "NONE") return null;
  if (kind === "CMD" && rest.length > 0) return { command: rest };
  if (kind === "CMD-SHELL" && rest.length > 0) return { command: ["sh", "-c", rest.join(" ")] };
  findings.push(error([...path, "test", 0], `expected "CMD", "CMD-SHELL" or "NONE" followed by the command, found ${describeValue(test[0])}`));
  return null;
}

function dependsOnOf(name: string, raw: unknown, path: DocPath, ctx: ServiceContext): string[] {
  if (raw === undefined || raw === null) return [];
  const entries: Array<[string, DocPath, Record<string, unknown>]> = Array.isArray(raw)
    ? raw.map((dep, i): [string, DocPath, Record<string, unknown>] => [String(dep), [...path, i], {}])
    : Object.entries(asMap(raw)).map(([dep, body]): [string, DocPath, Record<string, unknown>] => [dep, [...path, dep], asMap(body)]);
  if (!Array.isArray(raw) && (typeof raw !== "object" || raw === null)) {
    ctx.findings.push(error(path, `expected a list of services or a map of service → { condition }, found ${describeValue(raw)}`));
    return [];
  }
  const out: string[] = [];
  for (const [dep, at, body] of entries) {
    if (!ctx.known.has(dep)) {
      ctx.findings.push(error(at, `unknown service ${describeValue(dep)}. Services in this file: ${quoteList(ctx.names)}.`, { at: Array.isArray(raw) ? "value" : "key" }));
      continue;
    }
    if (dep === name) {
      ctx.findings.push(error(at, `"${name}" depends on itself`, { at: Array.isArray(raw) ? "value" : "key" }));
      continue;
    }
    if (body.condition === "service_completed_successfully") {
      ctx.findings.push(
        warning(
          [...at, "condition"],
          `service_completed_successfully is not honoured: every service is meshed as a server that keeps running; "${name}" waits for "${dep}" to be ready instead`,
        ),
      );
    }
    if (body.restart !== undefined) {
      ctx.findings.push(warning([...at, "restart"], "depends_on.restart is not honoured: meshquake never restarts an app by itself", { at: "key" }));
    }
    out.push(dep);
  }
  return out;
}

function portFromEnv(env: Record<string, string>): number | null {
  const value = env.PORT;
  if (value === undefined || !/^\d+$/.test(value)) return null;
  const port = Number(value);
  return port > 0 && port < 65536 ? port : null;
}

// --- interpolation -------------------------------------------------------------------------

/**
 * Compose's variable interpolation, with the variables of the .env file beside the compose file
 * only: meshquake never reads the shell's environment, so a run does not depend on who runs it.
 */
function interpolateAll(value: unknown, path: DocPath, vars: Record<string, string>, findings: Finding[]): unknown {
  if (typeof value === "string") return interpolate(value, vars, (message, severity) => findings.push({ severity, path, message }));
  if (Array.isArray(value)) return value.map((v, i) => interpolateAll(v, [...path, i], vars, findings));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, [...path, k], vars, findings)]));
  }
  return value;
}

