import { readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { debug, debugEnabled } from "../util/debug.js";
import { DockerHostError, DockerUnavailableError } from "./docker-errors.js";

export type { default as Docker } from "dockerode";
export { DockerHostError, DockerUnavailableError };

/**
 * Every ordinary engine call (create, start, inspect, list, remove, exec) must answer within this
 * long, or it fails: a hung or half-dead engine can delay a run, never hang it. Streams (logs,
 * events, builds) use a sibling client without it (`streamingClient`) and carry their own limits.
 */
export const DOCKER_CALL_TIMEOUT_MS = 20_000;
/** Connecting to the engine (a TCP host that drops packets, a socket nobody accepts on). */
export const DOCKER_CONNECT_TIMEOUT_MS = 5_000;

/** Where the engine is, as the docker CLI reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. */
export type DockerEndpoint =
  | { kind: "unix"; socketPath: string }
  | { kind: "tcp"; host: string; port: number; tls: { certPath: string; verify: boolean } | null };

const DEFAULT_SOCKET = "/var/run/docker.sock";

/**
 * DOCKER_HOST as the docker CLI reads it: unset is the local socket; `unix:///path`;
 * `tcp://host[:port]` (2375, or 2376 with TLS) over HTTP, or HTTPS with client certificates from
 * DOCKER_CERT_PATH (default ~/.docker) when DOCKER_TLS_VERIFY is set; `http://` and `https://` as
 * the engine SDK accepts them. `ssh://`, `npipe://` and `fd://` are refused with what to use instead.
 */
export function parseDockerHost(env: NodeJS.ProcessEnv): DockerEndpoint {
  const raw = env.DOCKER_HOST?.trim() ?? "";
  if (raw === "") return { kind: "unix", socketPath: DEFAULT_SOCKET };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new DockerHostError(`DOCKER_HOST="${raw}" has no scheme: expected unix:///path/to/docker.sock or tcp://host:port`);
  }
  if (scheme === "unix") {
    const socketPath = raw.slice("unix://".length);
    if (!socketPath.startsWith("/")) throw new DockerHostError(`DOCKER_HOST="${raw}": a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock`);
    return { kind: "unix", socketPath };
  }
  if (scheme === "ssh") {
    throw new DockerHostError(
      `DOCKER_HOST="${raw}": ssh:// engines are not supported. Forward the remote socket and point DOCKER_HOST at it, ` +
        `e.g. \`ssh -NL /tmp/remote-docker.sock:/var/run/docker.sock host\` and DOCKER_HOST=unix:///tmp/remote-docker.sock`,
    );
  }
  if (scheme !== "tcp" && scheme !== "http" && scheme !== "https") {
    throw new DockerHostError(`DOCKER_HOST="${raw}": ${scheme}:// is not supported here; use unix:///path/to/docker.sock or tcp://host:port`);
  }
  let url: URL;
  try {
    url = new URL(raw.replace(/^[a-z]+:/i, "http:"));
  } catch {
    throw new DockerHostError(`DOCKER_HOST="${raw}" is not a valid address: expected ${scheme}://host:port`);
  }
  if (url.hostname === "") throw new DockerHostError(`DOCKER_HOST="${raw}" names no host: expected ${scheme}://host:port`);
  if (url.pathname !== "/" && url.pathname !== "") {
    throw new DockerHostError(`DOCKER_HOST="${raw}": a path after the host is not supported (found "${url.pathname}")`);
  }
  const verify = (env.DOCKER_TLS_VERIFY ?? "") !== "";
  const tls = scheme === "https" || verify ? { certPath: env.DOCKER_CERT_PATH || join(homedir(), ".docker"), verify } : null;
  const port = url.port === "" ? (tls ? 2376 : 2375) : Number(url.port);
  return { kind: "tcp", host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port, tls };
}

/** The same engine's address in words, for messages: "unix:///var/run/docker.sock", "tcp://10.0.0.5:2376 (TLS)". */
export function describeEndpoint(e: DockerEndpoint): string {
  return e.kind === "unix" ? `unix://${e.socketPath}` : `tcp://${e.host}:${e.port}${e.tls ? " (TLS)" : ""}`;
}

/** dockerode's options for an endpoint (reads the TLS files); a null timeout leaves calls without a deadline. */
export function dockerOptions(e: DockerEndpoint, timeoutMs: number | null = DOCKER_CALL_TIMEOUT_MS): Docker.DockerOptions {
  const limits = { connectionTimeout: DOCKER_CONNECT_TIMEOUT_MS, ...(timeoutMs === null ? {} : { timeout: timeoutMs }) };
  if (e.kind === "unix") return { socketPath: e.socketPath, ...limits };
  if (!e.tls) return { protocol: "http", host: e.host, port: e.port, ...limits };
  const read = (name: string) => {
    try {
      return readFileSync(join(e.tls!.certPath, name));
    } catch (err) {
      throw new DockerHostError(`TLS to ${describeEndpoint(e)}: cannot read ${join(e.tls!.certPath, name)} (${(err as NodeJS.ErrnoException).code ?? String(err)}); set DOCKER_CERT_PATH`);
    }
  };
  return {
    protocol: "https",
    host: e.host,
    port: e.port,
    ca: read("ca.pem"),
    cert: read("cert.pem"),
    key: read("key.pem"),
    ...limits,
  };
}

const streamClients = new WeakMap<Docker, Docker>();
const endpoints = new WeakMap<Docker, DockerEndpoint>();

/** A client for `endpoint` whose calls have deadlines, with a sibling for streams (see streamingClient). */
export function dockerClient(endpoint: DockerEndpoint): Docker {
  const docker = traceCalls(new Docker(dockerOptions(endpoint)));
  streamClients.set(docker, traceCalls(new Docker(dockerOptions(endpoint, null))));
  endpoints.set(docker, endpoint);
  return docker;
}

const DEBUG_DOCKER = "meshquake:docker";
const debugDocker = debug(DEBUG_DOCKER);

/** With DEBUG=meshquake:docker (or --verbose): one line per engine call, with its outcome and time. */
function traceCalls(docker: Docker): Docker {
  type Dial = (options: { method?: string; path?: string }, callback: (err: unknown, data: unknown) => void) => void;
  const modem = docker.modem as { dial: Dial };
  const dial: Dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    if (!debugEnabled(DEBUG_DOCKER)) return dial(options, callback);
    const started = performance.now();
    const call = `${options.method ?? "GET"} ${(options.path ?? "").replace(/\?$/, "")}`;
    dial(options, (err, data) => {
      const ms = Math.round(performance.now() - started);
      const status = (err as { statusCode?: number } | null)?.statusCode;
      debugDocker(err ? `${call} failed${status ? ` (${status})` : ""} in ${ms} ms: ${(err instanceof Error ? err.message.split("\n")[0]! : String(err)).trim()}` : `${call} ok in ${ms} ms`);
      callback(err, data);
    });
  };
  return docker;
}

/**
 * The client to open long streams with (logs followed for a whole run, events, builds): the same
 * engine without the per-call deadline, which would cut a quiet stream. A client made elsewhere
 * (`new Docker()` in a test) is its own streaming client.
 */
export function streamingClient(docker: Docker): Docker {
  return streamClients.get(docker) ?? docker;
}

/**
 * Whether paths on this machine are paths on the engine's machine, so a directory bind-mounted
 * into a container can be reached from here (the sidecars' admin sockets): the engine is reached
 * through a unix socket or a loopback address, and calls itself by this machine's name. Not
 * Docker Desktop (its engine runs in a VM), a remote engine, or an engine whose socket was
 * mounted into the container this harness runs in.
 */
export function sharesFilesystem(docker: Docker, info: { Name?: string; OperatingSystem?: string } | null, host: string = hostname()): boolean {
  const endpoint = endpoints.get(docker) ?? { kind: "unix", socketPath: DEFAULT_SOCKET };
  const nearby = endpoint.kind === "unix" || /^(localhost|127\.\d+\.\d+\.\d+|::1)$/.test(endpoint.host);
  return nearby && info?.Name === host && !/docker desktop/i.test(info?.OperatingSystem ?? "");
}

export interface ConnectedDocker {
  docker: Docker;
  version: string;
  endpoint: DockerEndpoint;
  /** See sharesFilesystem. */
  local: boolean;
}

/** Connects to the engine named by DOCKER_HOST (or the default socket) and checks it answers. */
export async function connectDocker(env: NodeJS.ProcessEnv = process.env): Promise<ConnectedDocker> {
  const endpoint = parseDockerHost(env);
  const docker = dockerClient(endpoint);
  try {
    const [v, info] = await Promise.all([docker.version(), docker.info() as Promise<{ Name?: string; OperatingSystem?: string }>]);
    return { docker, version: `${v.Version} (API ${v.ApiVersion})`, endpoint, local: sharesFilesystem(docker, info) };
  } catch (err) {
    throw new DockerUnavailableError(err, describeEndpoint(endpoint));
  }
}
