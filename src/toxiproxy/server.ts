// Toxiproxy's HTTP API over meshquake's faults, so code written for toxiproxy-node-client (or any
// Toxiproxy 2 client) drives a mesh unchanged. One proxy per service, named after it and fixed:
// proxies are not created or removed, only enabled and disabled. Each toxic is applied through the
// injected `inject` and reverted through what it returned; requests are handled one at a time, so
// the table of toxics and what is injected in the mesh never disagree. `close()` reverts every
// fault the API applied, newest first, before the server stops. See docs/toxiproxy.md.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { packageVersion } from "../util/package-root.js";
import {
  type FaultInput,
  faultsForDisabledProxy,
  faultsForToxic,
  parseNewToxic,
  type Toxic,
  ToxicError,
  updateToxic,
} from "./toxics.js";

export interface InjectedFault {
  name: string;
  revert(): Promise<void>;
}

export interface ToxiproxyApiOptions {
  /** The mesh's services: one proxy each. */
  services: string[];
  /** Switches a fault on until its revert (a mesh's `inject`); throws a `FaultInputError` for a fault it refuses. */
  inject(fault: FaultInput): Promise<InjectedFault>;
  host?: string;
  /** 0 (the default): a free port. */
  port?: number;
}

export interface ToxiproxyApi {
  /** "http://127.0.0.1:PORT": what `new Toxiproxy(url)` takes. */
  url: string;
  /** Reverts every fault the API applied (newest first), then stops the server. */
  close(): Promise<void>;
}

/** Toxiproxy's own error: `{ error, status }` with that HTTP status. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface LiveToxic {
  toxic: Toxic;
  /** What is on in the mesh for it, oldest first. */
  faults: InjectedFault[];
  approximations: string[];
}

interface ProxyState {
  name: string;
  enabled: boolean;
  toxics: Map<string, LiveToxic>;
  /** The partitions standing for `enabled: false`. */
  disabledBy: InjectedFault[];
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const MAX_BODY_BYTES = 64 * 1024;

export async function startToxiproxyApi(options: ToxiproxyApiOptions): Promise<ToxiproxyApi> {
  const services = [...new Set(options.services)];
  if (services.length === 0) throw new Error("startToxiproxyApi: no services to serve as proxies");
  const proxies = new Map<string, ProxyState>(services.map((name) => [name, { name, enabled: true, toxics: new Map(), disabledBy: [] }]));

  const proxyOf = (name: string): ProxyState => {
    const proxy = proxies.get(name);
    if (proxy) return proxy;
    throw new ApiError(404, `proxy not found: ${JSON.stringify(name)}; the proxies are the mesh's services: ${quoted(services)}`);
  };

  const toxicOf = (proxy: ProxyState, name: string): LiveToxic => {
    const live = proxy.toxics.get(name);
    if (live) return live;
    const names = [...proxy.toxics.keys()];
    throw new ApiError(404, `toxic not found: ${JSON.stringify(name)} on proxy ${proxy.name} (${names.length === 0 ? "it has none" : `it has ${quoted(names)}`})`);
  };

  /** Switches on every fault, or none: a failure reverts those already on. */
  const injectAll = async (faults: FaultInput[]): Promise<InjectedFault[]> => {
    const taken = new Set(liveFaultNames());
    const clash = faults.find((f) => taken.has(f.name));
    if (clash) {
      throw new ApiError(409, `toxic already exists: its meshquake fault would be named "${clash.name}", as one that is on already; choose another toxic name`);
    }
    const done: InjectedFault[] = [];
    try {
      for (const fault of faults) {
        done.push(
          await options.inject(fault).catch((error: unknown) => {
            if (error instanceof Error && error.name === "FaultInputError") throw error;
            throw new Error(`could not switch on fault ${fault.name}: ${messageOf(error)}`, { cause: error });
          }),
        );
      }
    } catch (error) {
      await revertAll(done).catch(() => {});
      throw error;
    }
    return done;
  };

  /** Reverts newest first; the faults that would not revert stay in `faults` and the errors are thrown together. */
  const revertAll = async (faults: InjectedFault[]): Promise<void> => {
    const errors: unknown[] = [];
    for (const fault of [...faults].reverse()) {
      try {
        await fault.revert();
        faults.splice(faults.indexOf(fault), 1);
      } catch (error) {
        errors.push(new Error(`could not revert fault ${fault.name}: ${messageOf(error)}`, { cause: error }));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map(messageOf).join("; "));
  };

  const liveFaultNames = (): string[] =>
    [...proxies.values()].flatMap((p) => [...p.disabledBy.map((f) => f.name), ...[...p.toxics.values()].flatMap((t) => t.faults.map((f) => f.name))]);

  const setEnabled = async (proxy: ProxyState, enabled: boolean): Promise<void> => {
    if (enabled === proxy.enabled) return;
    if (enabled) await revertAll(proxy.disabledBy);
    else proxy.disabledBy = await injectAll(faultsForDisabledProxy(proxy.name, services));
    proxy.enabled = enabled;
  };

  const proxyJson = (proxy: ProxyState) => ({
    name: proxy.name,
    listen: `${proxy.name}:inbound`,
    upstream: `${proxy.name}:app`,
    enabled: proxy.enabled,
    toxics: [...proxy.toxics.values()].map((t) => t.toxic),
  });

  const toxicReply = (live: LiveToxic, status = 200): Reply => ({
    status,
    body: live.toxic,
    ...(live.approximations.length > 0 ? { headers: { "x-meshquake-approximation": live.approximations.join("; ") } } : {}),
  });

  /** Every toxic reverted and every proxy enabled; errors collected, not stopping the rest. */
  const resetAll = async (): Promise<void> => {
    const errors: string[] = [];
    for (const proxy of [...proxies.values()].reverse()) {
      for (const [name, live] of [...proxy.toxics].reverse()) {
        await revertAll(live.faults).then(
          () => proxy.toxics.delete(name),
          (error: unknown) => errors.push(messageOf(error)),
        );
      }
      await setEnabled(proxy, true).catch((error: unknown) => errors.push(messageOf(error)));
    }
    if (errors.length > 0) throw new ApiError(500, `reset left faults on: ${errors.join("; ")}`);
  };

  const createProxies = async (bodies: unknown[]): Promise<ReturnType<typeof proxyJson>[]> => {
    const targets = bodies.map((body) => {
      const input = objectBody(body);
      if (typeof input.name !== "string" || input.name === "") throw new ApiError(400, "missing required field: name");
      if (!proxies.has(input.name)) {
        throw new ApiError(
          400,
          `meshquake cannot create proxy ${JSON.stringify(input.name)}: its proxies are the mesh's services, one each (${quoted(services)}); ` +
            "use one of those names",
        );
      }
      return { proxy: proxyOf(input.name), enabled: input.enabled };
    });
    for (const { proxy, enabled } of targets) if (typeof enabled === "boolean") await setEnabled(proxy, enabled);
    return targets.map(({ proxy }) => proxyJson(proxy));
  };

  const routes: Route[] = [
    route("GET", "/version", () => ({ status: 200, body: { version: `${packageVersion()}-meshquake` } })),
    route("POST", "/reset", async () => {
      await resetAll();
      return { status: 204 };
    }),
    route("GET", "/proxies", () => ({ status: 200, body: Object.fromEntries([...proxies.values()].map((p) => [p.name, proxyJson(p)])) })),
    // The proxies exist from the start: creating one of them answers it as it is, so set-up code that creates its proxies runs unchanged.
    route("POST", "/proxies", async ({ body }) => ({ status: 201, body: (await createProxies([body]))[0] })),
    route("POST", "/populate", async ({ body }) => {
      if (!Array.isArray(body)) throw new ApiError(400, "bad request body: expected a JSON list of proxies");
      return { status: 201, body: { proxies: await createProxies(body) } };
    }),
    route("GET", "/proxies/:proxy", ({ params }) => ({ status: 200, body: proxyJson(proxyOf(params.proxy!)) })),
    route(["POST", "PATCH"], "/proxies/:proxy", async ({ params, body }) => {
      const proxy = proxyOf(params.proxy!);
      const input = objectBody(body);
      const fixed = proxyJson(proxy);
      for (const field of ["listen", "upstream"] as const) {
        if (input[field] !== undefined && input[field] !== fixed[field]) {
          throw new ApiError(400, `proxy ${proxy.name}: ${field} cannot change (meshquake's proxy is the service's inbound side, ${JSON.stringify(fixed[field])})`);
        }
      }
      if (input.enabled !== undefined && typeof input.enabled !== "boolean") throw new ApiError(400, "bad request body: enabled must be true or false");
      if (typeof input.enabled === "boolean") await setEnabled(proxy, input.enabled);
      return { status: 200, body: proxyJson(proxy) };
    }),
    route("DELETE", "/proxies/:proxy", ({ params }) => {
      const proxy = proxyOf(params.proxy!);
      throw new ApiError(405, `proxy ${proxy.name} cannot be deleted: it is a service of the mesh; disable it ({"enabled": false}) or POST /reset`);
    }),
    route("GET", "/proxies/:proxy/toxics", ({ params }) => ({ status: 200, body: proxyJson(proxyOf(params.proxy!)).toxics })),
    route("POST", "/proxies/:proxy/toxics", async ({ params, body }) => {
      const proxy = proxyOf(params.proxy!);
      const toxic = parseNewToxic(body);
      if (proxy.toxics.has(toxic.name)) throw new ApiError(409, `toxic already exists: ${JSON.stringify(toxic.name)} on proxy ${proxy.name}`);
      const { faults, approximations } = faultsForToxic(proxy.name, toxic, services);
      const live = { toxic, faults: await injectAll(faults), approximations };
      proxy.toxics.set(toxic.name, live);
      return toxicReply(live);
    }),
    route("GET", "/proxies/:proxy/toxics/:toxic", ({ params }) => toxicReply(toxicOf(proxyOf(params.proxy!), params.toxic!))),
    route(["POST", "PATCH"], "/proxies/:proxy/toxics/:toxic", async ({ params, body }) => {
      const proxy = proxyOf(params.proxy!);
      const live = toxicOf(proxy, params.toxic!);
      const toxic = updateToxic(live.toxic, body);
      const { faults, approximations } = faultsForToxic(proxy.name, toxic, services);
      // The same fault names: the old faults go before the new ones come.
      await revertAll(live.faults);
      try {
        live.faults = await injectAll(faults);
      } catch (error) {
        live.faults = await injectAll(faultsForToxic(proxy.name, live.toxic, services).faults).catch((again: unknown) => {
          proxy.toxics.delete(live.toxic.name);
          throw new ApiError(500, `${messageOf(error)}; restoring toxic ${live.toxic.name} as it was failed too, so it is removed: ${messageOf(again)}`);
        });
        throw error;
      }
      Object.assign(live, { toxic, approximations });
      return toxicReply(live);
    }),
    route("DELETE", "/proxies/:proxy/toxics/:toxic", async ({ params }) => {
      const proxy = proxyOf(params.proxy!);
      const live = toxicOf(proxy, params.toxic!);
      await revertAll(live.faults);
      proxy.toxics.delete(live.toxic.name);
      return { status: 204 };
    }),
  ];

  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };

  let closed: Promise<void> | undefined;
  const server = createServer((request, response) => {
    // Once closing, nothing may switch a fault on behind the revert of everything.
    const reply = async () =>
      closed ? errorReply(new ApiError(503, "the Toxiproxy API is closing: its faults are being reverted")) : handle(routes, request);
    void serially(reply)
      .then((reply) => send(response, reply))
      .catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    close: () =>
      (closed ??= (async () => {
        const reverted = serially(resetAll);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await reverted;
      })()),
  };
}

// --- HTTP ----------------------------------------------------------------------------------

interface Call {
  params: Record<string, string>;
  body: unknown;
}

interface Route {
  methods: string[];
  pattern: string[];
  run(call: Call): Reply | Promise<Reply>;
}

function route(methods: string | string[], path: string, run: Route["run"]): Route {
  return { methods: [methods].flat(), pattern: path.split("/").slice(1), run };
}

/** The route's params when `segments` fit its pattern. */
function match(route: Route, segments: string[]): Record<string, string> | undefined {
  if (route.pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of route.pattern.entries()) {
    const segment = segments[i]!;
    if (part.startsWith(":")) params[part.slice(1)] = segment;
    else if (part !== segment) return undefined;
  }
  return params;
}

async function handle(routes: Route[], request: IncomingMessage): Promise<Reply> {
  try {
    const { pathname } = new URL(request.url ?? "/", "http://toxiproxy");
    const segments = pathname.replace(/\/+$/, "").split("/").slice(1).map(decodeSegment);
    const fitting = routes.map((r) => ({ route: r, params: match(r, segments) })).filter((m) => m.params !== undefined);
    const found = fitting.find((m) => m.route.methods.includes(request.method ?? ""));
    if (!found) {
      const allowed = fitting.flatMap((m) => m.route.methods);
      if (allowed.length === 0) throw new ApiError(404, `not found: ${pathname} is not part of Toxiproxy's API`);
      throw new ApiError(405, `method not allowed: ${request.method} ${pathname} (allowed: ${allowed.join(", ")})`);
    }
    return await found.route.run({ params: found.params!, body: await readJson(request) });
  } catch (error) {
    return errorReply(error);
  }
}

function errorReply(error: unknown): Reply {
  const { status, message } =
    error instanceof ApiError || error instanceof ToxicError
      ? error
      : // `inject` refusing the fault: the request asked for something the mesh cannot do.
        error instanceof Error && error.name === "FaultInputError"
        ? { status: 400, message: `bad request body: meshquake refused the fault: ${error.message}` }
        : { status: 500, message: messageOf(error) };
  return { status, body: { error: message, status } };
}

function send(response: ServerResponse, reply: Reply): void {
  const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    ...reply.headers,
    ...(text === "" ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(text) }),
  });
  response.end(text);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `bad request body: larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError(400, `bad request body: ${messageOf(error)}`);
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  throw new ApiError(400, "bad request body: expected a JSON object");
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function quoted(names: string[]): string {
  return names.map((n) => JSON.stringify(n)).join(", ");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
