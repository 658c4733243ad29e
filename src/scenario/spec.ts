// Scenario format v1 as the user writes it: strict zod schemas (a typo in a key is an error, not
// a silently ignored field), the ScenarioSpec type, and the JSON Schema editors use.
// Values are checked here one at a time; names that refer to each other are checked in
// cross-check.ts, and defaults are applied in resolve.ts.
import { GRPC_RETRY_ON, PROTOCOLS } from "./protocols.js";
import { z } from "zod";
import { DEFAULTS } from "./defaults.js";
import {
  DURATION_EXAMPLES,
  DURATION_OR_RANGE_PATTERN,
  DURATION_PATTERN,
  missingUnit,
  parseDuration,
  parseDurationOrRange,
} from "./duration.js";
import { MEMORY_MAX_BYTES, MEMORY_MIN_BYTES, parseMemorySize } from "./memory-size.js";
import { SIDECAR_UID, userClaimsUid } from "../dataplane/sidecar-user.js";
import type { DataPlaneName, FaultKind, TlsMode } from "./types.js";
import { LIMITS, MESH_HEADER_PREFIX, RESERVED_NAMES, SIDECAR_PORTS } from "./limits.js";
import { describeValue, withSuggestion } from "./wording.js";
import { WARNING_IDS } from "./warnings.js";

type IssueInput = { input?: unknown };

// --- names ---------------------------------------------------------------------------------

const NAME_CHARS = `lowercase letters, digits and "-"`;

/** `; try "several-problems"` for "Several Problems", when there is something to suggest. */
function trySlug(value: unknown): string {
  if (typeof value !== "string") return "";
  const slug = value.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+|-+$/g, "");
  return slug === "" ? "" : `; try ${JSON.stringify(slug)}`;
}

/** At most `max` characters, checked first so a long value is not run through patterns. */
function lengthAtMost(max: number, what: string, why = "") {
  return (text: z.ZodString) =>
    text.max(max, { abort: true, error: (iss: IssueInput) => `${what} is at most ${max} characters${why}, found ${lengthOf(iss.input)}` });
}

function lengthOf(value: unknown): string {
  return typeof value === "string" ? `${value.length} characters` : describeValue(value);
}

/** A name that is a property of every JavaScript object is refused like any other bad name. */
const notReserved = (name: string): boolean => !RESERVED_NAMES.has(name);
/** Map keys: only `__proto__` is lost on the way (zod and object spreads skip it). */
const notProto = (name: string): boolean => name !== "__proto__";

function reservedMessage(what: string) {
  return (iss: IssueInput) => `${describeValue(iss.input)} is reserved (every JavaScript object has a property of that name); choose another ${what}`;
}

const scenarioName = lengthAtMost(LIMITS.nameLength, "a scenario name")(z.string())
  .regex(/^[a-z0-9-]+$/, {
    error: (iss: IssueInput) =>
      `a scenario name uses only ${NAME_CHARS} (it names the report folder), found ${describeValue(iss.input)}${trySlug(iss.input)}`,
  })
  .meta({ description: `Unique name; names the report folder. [a-z0-9-]+, at most ${LIMITS.nameLength} characters.` });

export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

export const serviceName = lengthAtMost(
  LIMITS.serviceNameLength,
  "a service name",
  ` (with "-<replica>" it is a DNS label, at most 63)`,
)(z.string())
  .regex(SERVICE_NAME_PATTERN, {
    abort: true,
    error: (iss: IssueInput) =>
      `a service name starts with a lowercase letter and uses only ${NAME_CHARS} (it becomes a DNS name), ` +
      `found ${describeValue(iss.input)}${trySlug(iss.input)}`,
  })
  .refine(notReserved, { error: reservedMessage("service name") });

const faultName = lengthAtMost(LIMITS.nameLength, "a fault name")(z.string())
  .regex(/^[a-z0-9-]+$/, {
    abort: true,
    error: (iss: IssueInput) => `a fault name uses only ${NAME_CHARS} (checks refer to it as fault:<name>), found ${describeValue(iss.input)}`,
  })
  .refine(notReserved, { error: reservedMessage("fault name") })
  .meta({ description: "Unique fault name; checks refer to it as fault:<name> or recovery:<name>." });

/** The message for a service name `schema` refuses, or undefined (compose files name services too). */
export function serviceNameProblem(name: string): string | undefined {
  const parsed = serviceName.safeParse(name);
  return parsed.success ? undefined : parsed.error.issues[0]?.message;
}

/** "payments" (every replica) or "payments[1]" (one replica). */
export const ENDPOINT_PATTERN = /^([a-z][a-z0-9-]*)(?:\[(\d+)\])?$/;

const endpoint = z.string().regex(ENDPOINT_PATTERN, {
  error: (iss: IssueInput) => `expected a service or one of its replicas, e.g. "payments" or "payments[1]", found ${describeValue(iss.input)}`,
});

/** A reference to a service; whether it exists is checked against the scenario's services. */
const serviceRef = z.string();

// --- numbers -------------------------------------------------------------------------------

type NumberKind = "number" | "integer";

function notANumber(kind: NumberKind) {
  return (iss: IssueInput): string => {
    const { input } = iss;
    if (typeof input === "number") {
      if (!Number.isFinite(input)) return `expected a finite number, found ${input}`;
      return Number.isInteger(input) ? `expected a whole number small enough to be exact (at most 2^53), found ${input}` : `expected a whole number, found ${input}`;
    }
    if (typeof input === "string" && /^\d+(?:\.\d+)?%$/.test(input)) {
      return `expected a plain number without "%" (write ${input.slice(0, -1)}), found ${describeValue(input)}`;
    }
    return `expected ${kind === "integer" ? "a whole number" : "a number"}, found ${describeValue(input)}`;
  };
}

function numberSchema(kind: NumberKind) {
  return kind === "integer" ? z.int({ error: notANumber(kind) }) : z.number({ error: notANumber(kind) });
}

/** The range first (one message for 1e300, not two), then whether it is whole. */
function numberBetween(min: number, max: number, kind: NumberKind = "number") {
  const outOfRange = (iss: IssueInput) => `must be between ${min} and ${max}, found ${describeValue(iss.input)}`;
  const ranged = z.number({ error: notANumber(kind) }).min(min, { abort: true, error: outOfRange }).max(max, { abort: true, error: outOfRange });
  return kind === "integer" ? ranged.int({ error: notANumber(kind) }) : ranged;
}

function numberAtLeast(min: number, kind: NumberKind = "number") {
  const atLeast = z.number({ error: notANumber(kind) }).min(min, { abort: true, error: (iss: IssueInput) => `must be at least ${min}, found ${describeValue(iss.input)}` });
  return kind === "integer" ? atLeast.int({ error: notANumber(kind) }) : atLeast;
}

function positiveNumber() {
  return numberSchema("number").positive({ error: (iss: IssueInput) => `must be greater than 0, found ${describeValue(iss.input)}` });
}

const percent = numberBetween(0, 100).meta({ description: "Percent of requests affected, 0..100." });

/** A number as written (1.5) or a percent ("99%"). */
const numberOrPercent = oneOf((error) => [z.number({ error }), z.string({ error }).regex(/^\d+(?:\.\d+)?%$/, { error })], "a number or a percent like \"99%\"");

/**
 * A union of scalars with one message for any value that fits no option. Every option carries
 * the message because zod reports a lone failing option's own issue instead of the union's.
 */
function oneOf<const T extends readonly [z.ZodType, ...z.ZodType[]]>(options: (error: (iss: IssueInput) => string) => T, expected: string) {
  const error = (iss: IssueInput) => `expected ${expected}, found ${describeValue(iss.input)}`;
  return z.union(options(error), { error });
}

// --- durations -----------------------------------------------------------------------------

function notADuration(iss: IssueInput): string {
  return typeof iss.input === "number"
    ? missingUnit(iss.input)
    : `expected a duration like ${DURATION_EXAMPLES}, found ${describeValue(iss.input)}`;
}

function errorMessage(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

interface DurationBound {
  ms: number;
  text: string;
  why: string;
}

const SCHEDULED: DurationBound = { ms: LIMITS.durationMs, text: LIMITS.durationText, why: "the longest duration meshquake schedules" };
const PROXY_DELAY: DurationBound = { ms: LIMITS.faultDelayMs, text: LIMITS.faultDelayText, why: "the longest delay the sidecar injects" };

function tooLong(bound: DurationBound) {
  return (iss: IssueInput) => `must be at most ${bound.text} (${bound.why}), found ${describeValue(iss.input)}`;
}

function duration(options: { positive?: boolean } = {}) {
  return z
    .string({ error: notADuration })
    .regex(new RegExp(DURATION_PATTERN), { abort: true, error: (iss: IssueInput) => errorMessage(() => parseDuration(String(iss.input))) })
    .refine((text) => !options.positive || parseDuration(text) > 0, { error: "must be longer than 0s" })
    .refine((text) => parseDuration(text) <= SCHEDULED.ms, { error: tooLong(SCHEDULED) })
    .meta({ description: `A duration such as ${DURATION_EXAMPLES}, at most ${SCHEDULED.text}.` });
}

const positiveDuration = duration({ positive: true });

function durationOrRange(bound: DurationBound = SCHEDULED) {
  return z
    .string({ error: notADuration })
    .regex(new RegExp(DURATION_OR_RANGE_PATTERN), {
      abort: true,
      error: (iss: IssueInput) => errorMessage(() => parseDurationOrRange(String(iss.input))),
    })
    .superRefine((text, ctx) => {
      const message = errorMessage(() => parseDurationOrRange(text));
      if (message !== undefined) ctx.addIssue({ code: "custom", message });
      else if (parseDurationOrRange(text).maxMs > bound.ms) ctx.addIssue({ code: "custom", message: tooLong(bound)({ input: text }) });
    })
    .meta({ description: `A duration, or a range "2ms..20ms" drawn from uniformly per request; at most ${bound.text}.` });
}

// --- services ------------------------------------------------------------------------------

// --- text that reaches HTTP, the sidecar's config and the containers --------------------------

const startsWithSlash = (iss: IssueInput) => `expected a path starting with "/", found ${describeValue(iss.input)}`;

/** A request path (and query) goes on the request line as written: printable ASCII, no spaces. */
const httpPath = lengthAtMost(LIMITS.requestPathLength, "a request path")(z.string())
  .regex(/^\//, { abort: true, error: startsWithSlash })
  .regex(/^[\x21-\x7e]*$/, {
    error: (iss: IssueInput) =>
      `a request path is sent as written: use printable ASCII without spaces or line breaks (percent-encode the rest, e.g. %20), found ${describeValue(iss.input)}`,
  });

/** What dataplane/haproxy/names.ts lets into the sidecar's config as a health-check path (one config word). */
const HEALTH_PATH = /^\/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*$/;

function healthPathMessage(iss: IssueInput): string {
  return (
    `a health path becomes one word of the sidecar's config: use letters, digits and -._~!$&()*+,;=:@%/? only ` +
    `(percent-encode the rest, e.g. %20), found ${describeValue(iss.input)}`
  );
}

const healthPath = lengthAtMost(LIMITS.healthPathLength, "a health path")(z.string())
  .regex(/^\//, { abort: true, error: startsWithSlash })
  .regex(HEALTH_PATH, { error: healthPathMessage });

/** RFC 9110 token: what a header name is (dataplane/haproxy/faults.ts checks the same). */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headerName = lengthAtMost(256, "a header name")(z.string())
  .regex(HTTP_TOKEN, {
    abort: true,
    error: (iss: IssueInput) => `a header name is an HTTP token (letters, digits and !#$%&'*+.^_\`|~-), found ${describeValue(iss.input)}`,
  })
  .refine(notProto, { error: reservedMessage("header name") });

const requestHeaderName = headerName.refine((name) => !name.toLowerCase().startsWith(MESH_HEADER_PREFIX), {
  error: (iss: IssueInput) =>
    `${describeValue(iss.input)}: headers starting with "${MESH_HEADER_PREFIX}" are reserved (the sidecars set and read them); rename it`,
});

/** Field values may hold a tab, never another control character: CR or LF would end the header. */
const headerValue = lengthAtMost(LIMITS.headerValueLength, "a header value")(z.string()).regex(/^[^\x00-\x08\x0a-\x1f\x7f]*$/, {
  error: (iss: IssueInput) => `a header value cannot hold a line break (CR, LF) or another control character, found ${describeValue(iss.input)}`,
});

/** Text handed to Docker (commands, environment, user): NUL would cut it short. */
const containerText = lengthAtMost(LIMITS.textLength, "this text")(z.string()).regex(/^[^\x00]*$/, {
  error: "cannot hold a NUL character",
});

/** Environment variable and build-argument names: Docker passes them as NAME=value. */
const variableName = lengthAtMost(256, "a variable name")(z.string())
  .regex(/^[^=\x00-\x1f\x7f]+$/, {
    abort: true,
    error: (iss: IssueInput) => `a variable name cannot be empty or hold "=" or a control character, found ${describeValue(iss.input)}`,
  })
  .refine(notProto, { error: reservedMessage("variable name") });

const variables = z.record(variableName, z.union([containerText, z.number(), z.boolean()]));

/** A command as an exec-form list: ["node", "server.js"]. */
const commandList = z.array(containerText, {
  error: (iss: IssueInput) => `expected a command as a list of strings, e.g. ["node", "server.js"], found ${describeValue(iss.input)}`,
});

const appPort = numberBetween(1, 65535, "integer").refine((port) => !SIDECAR_PORTS.includes(port), {
  error: (iss: IssueInput) =>
    `port ${describeValue(iss.input)} belongs to the sidecar in every pod (${SIDECAR_PORTS.join(", ")}: its outbound, inbound and mutual-TLS inbound listeners); ` +
    "choose another port for the app",
});

const buildSchema = z.union(
  [
    z.string().min(1).meta({ description: "The build context: a folder, relative to this file." }),
    z.strictObject({
      context: z.string().min(1).meta({ description: "The build context: a folder, relative to this file." }),
      dockerfile: z.string().min(1).optional().meta({ description: "The Dockerfile, relative to the context.", default: "Dockerfile" }),
      args: variables.optional().meta({ description: "Build arguments." }),
      target: z.string().min(1).optional().meta({ description: "The stage to build in a multi-stage Dockerfile." }),
    }),
  ],
  { error: (iss: IssueInput) => `expected a build context folder, or { context, dockerfile }, found ${describeValue(iss.input)}` },
);

const healthSchema = oneOf(
  (error) => [
    z.string({ error }).regex(/^\//, { error }),
    z.literal("tcp", { error }),
    z.strictObject({ command: commandList.min(1, { error: "must not be empty" }) }, { error }),
  ],
  `a path starting with "/" (HTTP GET answers 2xx), "tcp" (the port accepts connections) or { command: [...] } (exits 0 in the app container)`,
).superRefine((health, ctx) => {
  // A health path is also the default path of the callers' health checks (a word of their config).
  if (typeof health !== "string" || !health.startsWith("/")) return;
  const parsed = healthPath.safeParse(health);
  if (!parsed.success) ctx.addIssue({ code: "custom", message: parsed.error.issues[0]?.message ?? healthPathMessage({ input: health }) });
});

const memorySize = z
  .string()
  .refine((v) => {
    const bytes = parseMemorySize(v);
    return bytes !== null && bytes >= MEMORY_MIN_BYTES && bytes <= MEMORY_MAX_BYTES;
  }, {
    error: (iss: IssueInput) =>
      `expected a memory size between 6m and 256g such as "256m", "512MiB" or "1g" (k, m, g are powers of 1024), found ${describeValue(iss.input)}`,
  });

const resourcesSchema = z
  .strictObject({
    memory: memorySize.meta({ description: `Memory limit (no swap beyond it), e.g. "512m" or "1GiB".` }),
    pids: numberBetween(16, 65536, "integer").meta({ description: "Most processes and threads at once." }),
  })
  .partial();

/** What a route may match on, so the proxy's config can hold it as it is. */
export const ROUTE_TEXT = /^[A-Za-z0-9._~:/@+=,;*-]+$/;
export const ROUTE_HEADER = /^[A-Za-z0-9_-]+$/;
export const ROUTE_PATH = /^\/[A-Za-z0-9._~:/@+=,;%*-]*$/;

/** A version of a service: "v1", "canary", "2024-06". */
export const VERSION_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
const versionName = lengthAtMost(
  30,
  "a version name",
)(z.string().regex(VERSION_NAME_PATTERN, { error: "a version name is lowercase letters, digits and dashes, e.g. v2 or canary" }));

/** Percent of requests per version, adding up to 100. */
const splitSchema = z
  .record(versionName, numberBetween(0, 100))
  .refine((w) => Math.abs(Object.values(w).reduce((a, b) => a + b, 0) - 100) < 1e-6, {
    error: (iss: IssueInput) => `the weights add up to ${sumOf(iss.input)}; a split's weights add up to 100`,
  });

const versionSchema = z
  .strictObject({
    replicas: numberBetween(1, 20, "integer").meta({ description: "Replicas (pods) of this version.", default: DEFAULTS.service.replicas }),
    latency: durationOrRange().meta({ description: "The fixture's service time in this version; default: the service's." }),
    errorRate: numberBetween(0, 1).meta({ description: "The fixture's error rate in this version, 0..1; default: the service's." }),
    failFirst: numberBetween(0, 100, "integer").meta({ description: "The fixture's failFirst in this version; default: the service's." }),
  })
  .partial();

export const serviceSchema = z
  .strictObject({
    replicas: numberBetween(1, 20, "integer").meta({ description: "Number of replicas (pods).", default: DEFAULTS.service.replicas }),
    calls: z.array(serviceRef).meta({
      description:
        "Services the built-in fixture calls on every request, in order. For a user image: the services its app calls " +
        "(edges the report and checks use); its sidecar routes to every service either way.",
    }),
    latency: durationOrRange().meta({ description: `The fixture's own service time, or a range "2ms..20ms".`, default: DEFAULTS.service.latency }),
    errorRate: numberBetween(0, 1).meta({ description: "The fixture answers 500 with this probability, 0..1.", default: DEFAULTS.service.errorRate }),
    failFirst: numberBetween(0, 100, "integer").meta({
      description:
        "The fixture answers 503 to the first n tries of each request (by x-request-id, else the mesh's request id), then serves it: " +
        "a scripted upstream, so retry counts can be asserted exactly.",
      default: 0,
    }),
    versions: z
      .record(versionName, versionSchema.nullable())
      .refine((v) => Object.keys(v).length >= 1 && Object.keys(v).length <= 10, { error: "a service has 1 to 10 versions" })
      .meta({
        description:
          "Versions of the service, each its own replicas (the fixture's knobs per version); the service's name routes to all of " +
          "them, as policies.<service>.split and routes say. Replica indexes run across versions in the order written.",
      }),
    protocol: z.enum(PROTOCOLS).meta({
      description:
        "What the app speaks: http (HTTP/1.1), http2 (HTTP/2 cleartext, h2c) or grpc (gRPC over h2c). The sidecars carry it end " +
        "to end; the fixture answers in it; a grpc service's failures are gRPC statuses.",
      default: "http",
    }),
    port: appPort.meta({ description: "Port the app listens on (not one of the sidecar's).", default: DEFAULTS.service.port }),
    health: healthSchema.meta({
      description: `How the mesh knows the app is ready: an HTTP path, "tcp" or { command }. Default: ${DEFAULTS.service.health} for the fixture, "tcp" for a user image.`,
    }),
    image: lengthAtMost(255, "an image reference")(z.string()).min(1).regex(/^[^\s\x00-\x1f\x7f]*$/, { error: "an image reference has no spaces or control characters" }).meta({ description: "A user image to run instead of the fixture; it must exist locally (nothing is pulled)." }),
    build: buildSchema.meta({ description: "Build a user image from a Dockerfile instead of the fixture." }),
    env: variables.meta({ description: "Environment of a user image." }),
    command: commandList.meta({ description: "Command of a user image (replaces its CMD)." }),
    entrypoint: commandList.meta({ description: "Entrypoint of a user image (replaces its ENTRYPOINT)." }),
    user: containerText
      .min(1)
      .refine((u) => !userClaimsUid(u), {
        error: (iss: IssueInput) =>
          `uid ${SIDECAR_UID} is the sidecar's (found ${describeValue(iss.input)}): the pod's interception lets that uid's traffic ` +
          `bypass the mesh, so this app's calls would not be meshed; run it as another user`,
      })
      .meta({ description: `User the app of a user image runs as; not the sidecar's uid ${SIDECAR_UID}.` }),
    workingDir: containerText.min(1).meta({ description: "Working directory of a user image's app." }),
    dependsOn: z.array(serviceRef).meta({ description: "Services whose apps must be ready before this one starts." }),
    resources: resourcesSchema.meta({
      description:
        `Limits of each replica's app container. Default: ${DEFAULTS.resources.fixture.memory} and ${DEFAULTS.resources.fixture.pids} processes ` +
        `for the fixture, ${DEFAULTS.resources.userImage.memory} and ${DEFAULTS.resources.userImage.pids} for a user image.`,
    }),
  })
  .partial();

// --- policies ------------------------------------------------------------------------------

/** The TLS modes of a destination's policy (policies.<service>.tls.mode). */
export const TLS_MODES = ["mutual", "disable"] as const satisfies readonly TlsMode[];


const retryOnCondition = oneOf(
  (error) => [
    z.enum(["5xx", "reset", "connect-failure", "timeout", ...GRPC_RETRY_ON], { error }),
    z.string({ error }).regex(/^[1-5]\d\d$/, { error }),
    z.int({ error }).min(100, { error }).max(599, { error }),
  ],
  `5xx, reset, connect-failure, timeout, an HTTP status code such as 503, or (calls to a grpc service) ${GRPC_RETRY_ON.join(", ")}`,
);

const retryBudgetSchema = z
  .strictObject({
    ratio: numberBetween(0, 1).meta({ description: "Retries allowed as a fraction of requests.", default: DEFAULTS.retryBudget.ratio }),
    minPerSecond: numberBetween(0, LIMITS.proxyCount, "integer").meta({ description: "Retries always allowed per second.", default: DEFAULTS.retryBudget.minPerSecond }),
    window: positiveDuration.meta({ description: "Window the ratio is computed over.", default: DEFAULTS.retryBudget.window }),
  })
  .partial();

const retriesSchema = z
  .strictObject({
    attempts: numberBetween(1, 20, "integer").meta({
      description: "Tries in all, the first one included: 3 means up to 2 retries.",
      default: DEFAULTS.retries.attempts,
    }),
    perTryTimeout: positiveDuration.meta({ description: "Timeout of each try; default: none, only the overall timeout." }),
    retryOn: z.array(retryOnCondition).min(1).meta({ description: "Conditions that trigger a retry.", default: [...DEFAULTS.retries.retryOn] }),
    budget: retryBudgetSchema,
  })
  .partial();

export const policySchema = z
  .strictObject({
    timeout: positiveDuration.meta({ description: "Timeout of the whole request, across retries.", default: DEFAULTS.policy.timeout }),
    retries: retriesSchema,
    circuitBreaker: z
      .strictObject({
        maxConnections: numberBetween(1, LIMITS.proxyCount, "integer"),
        maxPending: numberBetween(0, LIMITS.proxyCount, "integer"),
      })
      .partial(),
    outlierDetection: z
      .strictObject({
        consecutive5xx: numberBetween(1, LIMITS.proxyCount, "integer").meta({ default: DEFAULTS.outlierDetection.consecutive5xx }),
        interval: positiveDuration.meta({ default: DEFAULTS.outlierDetection.interval }),
        baseEjectionTime: positiveDuration.meta({ default: DEFAULTS.outlierDetection.baseEjectionTime }),
        maxEjectionPercent: percent.meta({ default: DEFAULTS.outlierDetection.maxEjectionPercent }),
      })
      .partial(),
    loadBalancer: z
      .enum(["round-robin", "least-request", "random", "peak-ewma"])
      .meta({ default: DEFAULTS.policy.loadBalancer, description: "peak-ewma: Linkerd's latency-aware balancer (the cheaper of two random replicas by a peak-sensitive EWMA of response time × requests in flight)." }),
    healthCheck: z
      .strictObject({
        path: healthPath.meta({ description: "Default: the service's health path." }),
        interval: positiveDuration.meta({ default: DEFAULTS.healthCheck.interval }),
        unhealthyAfter: numberBetween(1, LIMITS.healthChecks, "integer").meta({ default: DEFAULTS.healthCheck.unhealthyAfter }),
        healthyAfter: numberBetween(1, LIMITS.healthChecks, "integer").meta({ default: DEFAULTS.healthCheck.healthyAfter }),
      })
      .partial(),
    split: splitSchema.meta({ description: "Percent of requests per version, applied by each caller's sidecar per request (Istio route[].weight)." }),
    routes: z
      .array(
        z.strictObject({
          match: z.union([
            z.strictObject({
              header: headerName.regex(ROUTE_HEADER, { error: "a route's header name is letters, digits, - and _" }),
              value: z.string().max(200).regex(ROUTE_TEXT, { error: "a route's header value is letters, digits and ._~:/@+=,;*- (no spaces or quotes)" }),
            }),
            z.strictObject({
              path: z.string().max(200).regex(ROUTE_PATH, { error: "a route's path starts with / and holds letters, digits and ._~:/@+=,;%*- (a prefix: /api matches /api/x)" }),
            }),
          ]),
          to: versionName.meta({ description: "The version that serves the requests that match." }),
        }),
      )
      .max(20)
      .meta({ description: "Requests that match go to one version, before the split; the first match wins (Istio http[].match)." }),
    tls: z
      .strictObject({
        mode: z.enum(TLS_MODES).meta({
          description:
            "mutual: callers' sidecars reach this service over mutual TLS, whatever mesh.mtls says (Istio DestinationRule " +
            "tls.mode ISTIO_MUTUAL); disable: plaintext between the sidecars even with mesh.mtls (DISABLE).",
        }),
      })
      .meta({ description: "How callers' sidecars reach this service. Default: mesh.mtls. See docs/mtls.md." }),
    rateLimit: z
      .strictObject({
        requestsPerSecond: positiveNumber()
          .max(LIMITS.rate, { error: (iss: IssueInput) => `must be at most ${LIMITS.rate} requests per second, found ${describeValue(iss.input)}` })
          .meta({ description: "Requests each replica serves per second, on average (the token bucket's refill rate)." }),
        burst: numberBetween(1, LIMITS.proxyCount, "integer").optional().meta({
          description:
            "The bucket's size: the most requests a replica serves back to back after a quiet spell. Default: one second's worth " +
            "(requestsPerSecond, rounded up), as Linkerd's limiter.",
        }),
      })
      .meta({
        description:
          "Local rate limit on each replica's inbound side (a token bucket per replica, as Envoy's local_ratelimit): a request " +
          "finding the bucket empty is answered 429 with Retry-After. See docs/policy.md.",
      }),
  })
  .partial();

// --- load ----------------------------------------------------------------------------------

const requestSchema = z
  .strictObject({
    method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]).meta({ default: DEFAULTS.load.request.method }),
    path: httpPath.meta({ default: DEFAULTS.load.request.path }),
    headers: z.record(requestHeaderName, headerValue).superRefine((headers, ctx) => {
      for (const name of Object.keys(headers)) {
        if (name.toLowerCase() === "x-request-id") {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `x-request-id is the load generator's own: every request gets a unique one, so a failure can be traced hop by hop; remove it`,
          });
        }
      }
    }),
    body: lengthAtMost(LIMITS.requestBodyBytes, "a request body")(z.string()),
    weight: positiveNumber().meta({ description: "Relative share of this request in the mix.", default: DEFAULTS.load.request.weight }),
  })
  .partial();

export const LOAD_MODELS = ["open", "closed"] as const;
export const ARRIVALS = ["constant", "poisson"] as const;
export const LOAD_PROTOCOLS = ["http", "grpc"] as const;

/** A gRPC method as its path names it, without the leading "/": package.Service/Method. */
export const GRPC_METHOD_PATTERN = /^[A-Za-z_][A-Za-z0-9_.]*\/[A-Za-z_][A-Za-z0-9_]*$/;

const grpcMethod = lengthAtMost(256, "a gRPC method")(z.string()).regex(GRPC_METHOD_PATTERN, {
  error: (iss: IssueInput) =>
    `load.method is the gRPC method a protocol: grpc load calls, package.Service/Method (e.g. "meshquake.Fixture/Call"; an HTTP request's method is requests[].method), found ${describeValue(iss.input)}`,
});

/** Metadata the generator or HTTP/2 itself owns: a scenario cannot set them. */
const RESERVED_METADATA: Record<string, string> = {
  "x-request-id": "x-request-id is the load generator's own: every request gets a unique one, so a failure can be traced hop by hop; remove it",
  "content-type": "content-type is the generator's own (application/grpc); remove it",
  te: "te is the generator's own (trailers, as gRPC requires); remove it",
  connection: "connection-specific headers are not allowed in HTTP/2; remove it",
  "keep-alive": "connection-specific headers are not allowed in HTTP/2; remove it",
  "proxy-connection": "connection-specific headers are not allowed in HTTP/2; remove it",
  "transfer-encoding": "connection-specific headers are not allowed in HTTP/2; remove it",
  upgrade: "connection-specific headers are not allowed in HTTP/2; remove it",
};

const grpcMetadata = z.record(requestHeaderName, headerValue).superRefine((metadata, ctx) => {
  for (const name of Object.keys(metadata)) {
    const lower = name.toLowerCase();
    const why = RESERVED_METADATA[lower] ?? (lower.startsWith("grpc-") ? `metadata starting with "grpc-" is reserved by gRPC itself; rename it` : undefined);
    if (why !== undefined) ctx.addIssue({ code: "custom", path: [name], message: why });
  }
});

export const loadSchema = z
  .strictObject({
    target: serviceRef.meta({ description: "The ingress service load is sent to; default: the first service." }),
    model: z.enum(LOAD_MODELS).meta({
      description:
        "open: every request is sent at its scheduled time from the rate alone, whatever the system does (real user traffic). " +
        "closed: a fixed pool of `connections`, each waiting for its answer before sending again (the load backs off when the system slows). " +
        "Default: open, or closed when `connections` is given.",
    }),
    rate: positiveNumber()
      .max(LIMITS.rate, { error: (iss: IssueInput) => `must be at most ${LIMITS.rate} requests per second, found ${describeValue(iss.input)}` })
      .meta({ description: `Requests per second, at most ${LIMITS.rate}.`, default: DEFAULTS.load.rate }),
    arrivals: z.enum(ARRIVALS).meta({
      description: "open model: constant spacing (1/rate apart), or poisson (exponential gaps with mean 1/rate, seeded).",
      default: DEFAULTS.load.arrivals,
    }),
    maxInFlight: numberBetween(1, 100_000, "integer").meta({
      description:
        "open model: the most requests in flight at once (one connection each; a gRPC load shares HTTP/2 connections, 100 calls each). A request due when the cap is reached is not sent, " +
        "counted as notSent and as a failure. Default: rate × timeout, so it never binds unless the system stalls.",
    }),
    maxLag: positiveDuration.meta({
      description:
        "open model: the generator's own lag (actual minus scheduled send time) it may show at p99 in a window; over it, the window's checks are " +
        "inconclusive (the generator, not the system, fell behind). Default: the mean gap between requests (1/rate), at least 1ms and at most 10ms.",
    }),
    connections: numberBetween(1, 10_000, "integer").meta({ description: "closed model: the client pool.", default: DEFAULTS.load.connections }),
    timeout: positiveDuration.meta({ description: "A request without a complete answer after this long fails as a timeout.", default: DEFAULTS.load.timeout }),
    duration: positiveDuration.meta({ default: DEFAULTS.load.duration }),
    requests: z
      .array(requestSchema)
      .min(1)
      .max(LIMITS.requests, { error: `a load mixes at most ${LIMITS.requests} requests` }),
    protocol: z.enum(LOAD_PROTOCOLS).meta({
      description:
        "http: HTTP/1.1 requests (`requests`). grpc: gRPC calls of one `method` over a pool of HTTP/2 connections, open model only; " +
        "each call counts by its gRPC status name (OK, UNAVAILABLE…), and only OK succeeds.",
      default: "http",
    }),
    method: grpcMethod.meta({ description: "protocol: grpc only: the method every call invokes, package.Service/Method (e.g. meshquake.Fixture/Call)." }),
    message: z
      .record(z.string(), z.unknown())
      .meta({ description: "protocol: grpc only: the request message as JSON (proto3 JSON field names), encoded once with the proto. Default {}." }),
    metadata: grpcMetadata.meta({ description: "protocol: grpc only: request metadata sent with every call (x-request-id is the generator's own)." }),
    proto: lengthAtMost(LIMITS.requestPathLength, "a proto path")(z.string().min(1, { error: "a proto path cannot be empty" })).meta({
      description: "protocol: grpc only: the .proto file that defines `method`, relative to the scenario file. Default: the built-in fixture's (fixtures/service/meshquake.proto).",
    }),
  })
  .partial()
  .superRefine((load, ctx) => {
    const grpc = load.protocol === "grpc";
    if (grpc) {
      if (load.method === undefined) {
        ctx.addIssue({ code: "custom", path: ["protocol"], message: `a gRPC load needs load.method, the package.Service/Method it calls (e.g. meshquake.Fixture/Call)` });
      }
      if (load.requests !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["requests"],
          message: "a gRPC load sends one method (load.method with load.message and load.metadata), not a mix of HTTP requests; remove requests",
        });
      }
      const model = load.model ?? (load.connections === undefined ? "open" : "closed");
      if (model === "closed") {
        const key = load.model === undefined ? "connections" : "model";
        ctx.addIssue({
          code: "custom",
          path: [key],
          message:
            `a gRPC load is open only${key === "connections" ? " (connections makes a load closed)" : ""}: its generator sends every call at its scheduled time over a pool of HTTP/2 connections, ` +
            `and the closed generator (autocannon) speaks HTTP/1.1 only; ${key === "model" ? "use model: open" : "remove connections (maxInFlight caps an open load)"}`,
        });
        return;
      }
    } else {
      for (const key of ["method", "message", "metadata", "proto"] as const) {
        // A method that is not package.Service/Method has its own message already.
        if (load[key] === undefined || (key === "method" && !GRPC_METHOD_PATTERN.test(load.method ?? ""))) continue;
        const why = load.protocol === undefined ? "this load is HTTP (the default)" : "load.protocol is http";
        const instead = key === "method" ? "; an HTTP request's method is requests[].method" : key === "metadata" ? "; an HTTP request's headers are requests[].headers" : "";
        ctx.addIssue({ code: "custom", path: [key], message: `${key} applies to protocol: grpc only, but ${why}${instead}` });
      }
    }
    const model = load.model ?? (load.connections === undefined ? "open" : "closed");
    const only = (key: "connections" | "arrivals" | "maxInFlight" | "maxLag", owner: "open" | "closed", instead: string) => {
      if (load[key] === undefined || model === owner) return;
      const why = load.model === undefined ? `this load is ${model} (${model === "open" ? "the default" : "it sets connections"})` : `load.model is ${model}`;
      ctx.addIssue({ code: "custom", path: [key], message: `${key} applies to model: ${owner} only, but ${why}; ${instead}` });
    };
    only("connections", "closed", "an open load opens one connection per request in flight, bounded by maxInFlight");
    only("arrivals", "open", "a closed load sends whenever a connection is free");
    only("maxInFlight", "open", "a closed load has at most `connections` requests in flight");
    only("maxLag", "open", "a closed load sends whenever a connection is free, so it has no schedule to keep");
    if (model === "closed" && load.rate !== undefined && !Number.isInteger(load.rate)) {
      ctx.addIssue({
        code: "custom",
        path: ["rate"],
        message: `a closed load needs a whole number of requests per second (its generator paces whole requests per connection), found ${load.rate}; use model: open for fractional rates`,
      });
    }
  });

// --- faults --------------------------------------------------------------------------------

const edgeSchema = z.strictObject({ from: serviceRef, to: serviceRef });

const timing = {
  at: duration().meta({ description: "When the fault starts, from the start of load.", default: DEFAULTS.fault.at }),
  duration: positiveDuration.meta({ description: "How long it lasts; default: until the load ends." }),
};

/** Faults that act on one service's replicas. */
const targeted = {
  name: faultName,
  target: serviceRef.meta({ description: "The service the fault acts on." }),
  replicas: z.array(numberAtLeast(0, "integer")).min(1).optional().meta({ description: "Replica indexes; default: all." }),
  count: numberAtLeast(1, "integer").optional().meta({ description: "Affect the first n replicas." }),
  version: versionName.optional().meta({ description: "Only the replicas of this version of the target (services.<target>.versions)." }),
  at: timing.at.optional(),
  duration: timing.duration.optional(),
};

/** Faults the target's sidecar applies per request. */
const perRequest = {
  ...targeted,
  edge: edgeSchema.optional().meta({ description: "Only requests on this edge; `to` is the target." }),
  match: z.strictObject({ header: headerName, value: headerValue }).optional().meta({ description: "Only requests with this header value." }),
  percent: percent.optional().meta({ default: DEFAULTS.fault.percent }),
};

const abortFault = z.strictObject({
  kind: z.literal("abort"),
  ...perRequest,
  status: numberBetween(200, 599, "integer").optional().meta({ description: "HTTP status answered.", default: DEFAULTS.fault.abortStatus }),
  grpcStatus: numberBetween(1, 16, "integer").optional().meta({
    description: "A grpc target's requests: the gRPC status answered (a trailers-only response), e.g. 14 UNAVAILABLE. Default: 14 for a grpc target.",
  }),
});
const delayFault = z.strictObject({ kind: z.literal("delay"), ...perRequest, delay: durationOrRange(PROXY_DELAY) });
const blackholeFault = z.strictObject({ kind: z.literal("blackhole"), ...perRequest });
const resetFault = z.strictObject({ kind: z.literal("reset"), ...perRequest });
const ratelimitFault = z.strictObject({
  kind: z.literal("ratelimit"),
  ...perRequest,
  retryAfter: duration()
    .refine((text) => parseDuration(text) % 1000 === 0, {
      error: (iss: IssueInput) => `Retry-After is a whole number of seconds (e.g. "1s", "30s"), found ${describeValue(iss.input)}`,
    })
    .refine((text) => parseDuration(text) <= PROXY_DELAY.ms, { error: tooLong(PROXY_DELAY) })
    .optional()
    .meta({ description: "The Retry-After answered with the 429, in whole seconds.", default: DEFAULTS.fault.retryAfter }),
});
const partitionFault = z.strictObject({
  kind: z.literal("partition"),
  name: faultName,
  between: z.tuple([endpoint, endpoint], {
    error: (iss: IssueInput) => `expected two endpoints, e.g. [checkout, "payments[1]"], found ${describeValue(iss.input)}`,
  }),
  direction: z.enum(["both", "oneway"]).optional().meta({ default: DEFAULTS.fault.partitionDirection }),
  at: timing.at.optional(),
  duration: timing.duration.optional(),
});
const killFault = z.strictObject({
  kind: z.literal("kill"),
  ...targeted,
  restart: z.boolean().optional().meta({ description: "Restart the replica when the fault ends.", default: DEFAULTS.fault.killRestart }),
});
const pauseFault = z.strictObject({ kind: z.literal("pause"), ...targeted });

const BANDWIDTH_RATE = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/;
/** tc's units: "bit" is bits per second, "bps" bytes per second. */
const BITS_PER_UNIT: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 };
const MAX_BANDWIDTH_BITS = 100e9;

function bitsPerSecond(rate: string): number {
  const [, amount = "0", unit = "bit"] = BANDWIDTH_RATE.exec(rate) ?? [];
  return Number(amount) * (BITS_PER_UNIT[unit] ?? 1);
}
const bandwidthFault = z.strictObject({
  kind: z.literal("bandwidth"),
  ...targeted,
  rate: lengthAtMost(32, "a rate")(z.string())
    .regex(BANDWIDTH_RATE, {
      abort: true,
      error: (iss: IssueInput) => `expected a rate like "1mbit", "500kbit" or "10mbps", found ${describeValue(iss.input)}`,
    })
    .refine((rate) => bitsPerSecond(rate) > 0 && bitsPerSecond(rate) <= MAX_BANDWIDTH_BITS, {
      error: (iss: IssueInput) => `a rate is more than 0 and at most 100gbit (what tc shapes), found ${describeValue(iss.input)}`,
    }),
});

/** Not a fault but an operator's action on the same timeline: the callers' split changes at runtime. */
const shiftFault = z.strictObject({
  kind: z.literal("shift"),
  name: faultName,
  target: serviceRef.meta({ description: "The service whose split changes (it has versions)." }),
  split: splitSchema.meta({ description: "The new percent of requests per version, from `at` until `duration` ends (then the policy's split again) or the load ends." }),
  at: timing.at.optional(),
  duration: timing.duration.optional(),
});

export const faultSchema = z.discriminatedUnion("kind", [
  abortFault,
  delayFault,
  blackholeFault,
  resetFault,
  ratelimitFault,
  partitionFault,
  killFault,
  pauseFault,
  bandwidthFault,
  shiftFault,
]);

export const FAULT_KINDS: readonly FaultKind[] = faultSchema.options.map((option) => option.shape.kind.value);

// --- checks --------------------------------------------------------------------------------

export const WINDOW_PATTERN = /^(?:whole|baseline|(fault|recovery):([a-z0-9-]+))$/;

const windowRef = z
  .string()
  .regex(WINDOW_PATTERN, {
    error: (iss: IssueInput) => `expected whole, baseline, fault:<name> or recovery:<name>, found ${describeValue(iss.input)}`,
  })
  .meta({ description: "whole | baseline | fault:<name> | recovery:<name>", default: DEFAULTS.checkWindow });

export const PROPERTY_NAMES = [
  "retry_amplification",
  "retry_budget",
  "circuit_trip",
  "ejection",
  "failover",
  "recovery",
  "timeout_bound",
  "isolation",
  "slow_replica_share",
  "rate_limit",
  "traffic_split",
  "blast_radius",
] as const;
export type PropertyName = (typeof PROPERTY_NAMES)[number];

const sloCheck = z.strictObject({
  slo: lengthAtMost(256, "an SLO expression")(z.string()).min(1).meta({ description: `An SLO expression, e.g. "error_rate < 1%" or "p(99) < 800ms".` }),
  window: windowRef.optional(),
});

const propertyCheck = z.strictObject({
  property: z.enum(PROPERTY_NAMES),
  edge: edgeSchema.optional(),
  target: endpoint.optional(),
  fault: z.string().optional(),
  within: positiveDuration.optional(),
  max: numberOrPercent.optional(),
  min: numberOrPercent.optional(),
  tolerance: numberOrPercent.optional().meta({ description: `traffic_split: how far a version's observed share may be from its configured share, e.g. 5% (the default).` }),
  version: versionName.optional().meta({ description: "blast_radius: the version of the target service the failures are blamed on (services.<target>.versions)." }),
  slos: z
    .array(lengthAtMost(256, "an SLO expression")(z.string()).min(1))
    .min(1)
    .optional()
    .meta({ description: `SLO expressions a recovery or isolation check judges, e.g. ["error_rate < 1%", "p(99) < 300ms"]. Default: the scenario's SLO checks.` }),
  path: httpPath.optional().meta({ description: "isolation: the route is the client requests to this path (from load.requests)." }),
});

export const checkSchema = z.union([sloCheck, propertyCheck], {
  error: `a check needs either "slo" (an SLO expression) or "property" (a resilience property)`,
});

// --- scenario ------------------------------------------------------------------------------

export const meshSchema = z
  .strictObject({
    mtls: z.boolean().optional().meta({
      description:
        "Mutual TLS between every pair of sidecars, with a certificate per pod from a CA made for the run (Istio's PeerAuthentication " +
        "STRICT, Linkerd's automatic mTLS); policies.<service>.tls.mode overrides it per destination. See docs/mtls.md.",
      default: DEFAULTS.mesh.mtls,
    }),
  })
  .meta({ description: "Settings of the whole mesh." });

const dataPlaneName = z.enum(["haproxy", "envoy"] satisfies DataPlaneName[]);
export const DATA_PLANE_NAMES: readonly DataPlaneName[] = dataPlaneName.options;

export const topologySchema = z
  .strictObject({
    compose: z.string().min(1).meta({ description: "A docker-compose.yml whose services this scenario meshes, relative to this file." }),
  })
  .meta({ description: "Where the services come from when not (only) from `services`." });

/**
 * Mesh policy per destination service; `istio` imports VirtualServices and DestinationRules
 * (so no service can take its policy from a key named "istio").
 */
export const policiesSchema = z
  .object({
    istio: z
      .array(z.string().min(1), {
        error: (iss: IssueInput) => `expected a list of Istio YAML files, e.g. [./virtualservice.yaml], found ${describeValue(iss.input)}`,
      })
      .min(1)
      .max(LIMITS.istioFiles, { error: (iss: IssueInput) => `${countOf(iss.input)} Istio files; a scenario imports at most ${LIMITS.istioFiles}` })
      .optional()
      .meta({ description: "Istio VirtualService and DestinationRule files to import, relative to this file." }),
  })
  .catchall(policySchema)
  .meta({ description: "Mesh policy per destination service." });

const unknownWarning = (id: string) =>
  withSuggestion(`unknown warning id "${id}"`, id, WARNING_IDS, `Allowed: ${WARNING_IDS.map((w) => JSON.stringify(w)).join(", ")}.`);
/** What an `acknowledge:` entry that is neither a known id nor `{ warning, at }` gets told. */
function acknowledgementProblem(input: unknown): string {
  const written = typeof input === "string" ? input : typeof input === "object" && input !== null ? (input as { warning?: unknown }).warning : undefined;
  if (typeof written === "string" && !(WARNING_IDS as readonly string[]).includes(written)) return unknownWarning(written);
  return `expected a warning id, or { warning: <id>, at: <path such as policies.payments> }, found ${describeValue(input)}`;
}
const warningId = z.enum(WARNING_IDS, { error: (iss: IssueInput) => (typeof iss.input === "string" ? unknownWarning(iss.input) : undefined) });

/** `acknowledge:`: plan warnings the author has read and accepts, so they stop being said. */
export const acknowledgeSchema = z
  .array(
    z.union(
      [
        warningId,
        z.strictObject({
          warning: warningId,
          at: z.string().min(1).optional().meta({ description: "Only warnings about this path or below it, e.g. policies.payments." }),
        }),
      ],
      { error: (iss: IssueInput) => acknowledgementProblem(iss.input) },
    ),
  )
  .max(WARNING_IDS.length * 8)
  .meta({ description: "Warning ids (shown in brackets by `meshquake validate`) the author accepts; each silences that warning, everywhere or only `at` a path." });

export const scenarioSchema = z
  .strictObject({
    name: scenarioName,
    description: lengthAtMost(LIMITS.textLength, "a description")(z.string()).optional(),
    seed: numberBetween(0, 2 ** 32 - 1, "integer").optional().meta({ description: "Makes every probabilistic choice repeatable." }),
    dataPlane: dataPlaneName.optional().meta({ default: DEFAULTS.dataPlane }),
    topology: topologySchema.optional(),
    services: z
      .record(serviceName, serviceSchema.nullable())
      .refine((services) => Object.keys(services).length > 0, { error: "a scenario needs at least one service" })
      .refine((services) => Object.keys(services).length <= LIMITS.services, {
        error: (iss: IssueInput) => `${countOf(iss.input)} services; a scenario has at most ${LIMITS.services}`,
      })
      .optional()
      .meta({ description: "The services to mesh; with topology.compose, additions to and overrides of the imported ones." }),
    mesh: meshSchema.optional(),
    policies: policiesSchema.optional(),
    load: loadSchema.optional(),
    faults: z.array(faultSchema).max(LIMITS.faults, { error: (iss: IssueInput) => `${countOf(iss.input)} faults; a scenario has at most ${LIMITS.faults}` }).optional(),
    checks: z.array(checkSchema).max(LIMITS.checks, { error: (iss: IssueInput) => `${countOf(iss.input)} checks; a scenario has at most ${LIMITS.checks}` }).optional(),
    acknowledge: acknowledgeSchema.optional(),
  })
  .meta({
    title: "meshquake scenario (v1)",
    // `services` or a compose file to import them from (zod checks this in load-scenario.ts).
    anyOf: [{ required: ["services"] }, { required: ["topology"] }],
  });

/** The sum of a split's weights, for a message. */
function sumOf(value: unknown): number {
  const weights = typeof value === "object" && value !== null ? Object.values(value) : [];
  return Math.round(weights.reduce((a: number, b) => a + (typeof b === "number" ? b : 0), 0) * 1000) / 1000;
}

/** How many entries a list or map holds, for a message. */
function countOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return typeof value === "object" && value !== null ? Object.keys(value).length : 0;
}

export type ScenarioSpec = z.infer<typeof scenarioSchema>;
export type TopologySpec = z.infer<typeof topologySchema>;
export type BuildSpec = z.infer<typeof buildSchema>;
export type HealthSpec = z.infer<typeof healthSchema>;
export type ServiceSpec = z.infer<typeof serviceSchema>;
export type PolicySpec = z.infer<typeof policySchema>;
export type MeshSpec = z.infer<typeof meshSchema>;
export type LoadSpec = z.infer<typeof loadSchema>;
export type FaultSpec = z.infer<typeof faultSchema>;
export type CheckSpec = z.infer<typeof checkSchema>;
export type SloCheckSpec = z.infer<typeof sloCheck>;
export type PropertyCheckSpec = z.infer<typeof propertyCheck>;

/** The JSON Schema editors use (`# yaml-language-server: $schema=...`), from the same zod schema. */
export function scenarioJsonSchema(): Record<string, unknown> {
  // draft-07: the draft yaml-language-server and most editors understand.
  return z.toJSONSchema(scenarioSchema, { target: "draft-7", io: "input" });
}
