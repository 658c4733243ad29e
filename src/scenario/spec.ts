// Scenario format v1 as the user writes it: strict zod schemas (a typo in a key is an error, not
// a silently ignored field), the ScenarioSpec type, and the JSON Schema editors use.
// Values are checked here one at a time; names that refer to each other are checked in
// cross-check.ts, and defaults are applied in resolve.ts.
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
import type { DataPlaneName, FaultKind } from "./types.js";
import { describeValue } from "./wording.js";

type IssueInput = { input?: unknown };

// --- names ---------------------------------------------------------------------------------

const NAME_CHARS = `lowercase letters, digits and "-"`;

/** `; try "several-problems"` for "Several Problems", when there is something to suggest. */
function trySlug(value: unknown): string {
  if (typeof value !== "string") return "";
  const slug = value.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+|-+$/g, "");
  return slug === "" ? "" : `; try ${JSON.stringify(slug)}`;
}

const scenarioName = z
  .string()
  .regex(/^[a-z0-9-]+$/, {
    error: (iss: IssueInput) =>
      `a scenario name uses only ${NAME_CHARS} (it names the report folder), found ${describeValue(iss.input)}${trySlug(iss.input)}`,
  })
  .meta({ description: "Unique name; names the report folder. [a-z0-9-]+" });

export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

const serviceName = z.string().regex(SERVICE_NAME_PATTERN, {
  error: (iss: IssueInput) =>
    `a service name starts with a lowercase letter and uses only ${NAME_CHARS} (it becomes a DNS name), ` +
    `found ${describeValue(iss.input)}${trySlug(iss.input)}`,
});

const faultName = z
  .string()
  .regex(/^[a-z0-9-]+$/, {
    error: (iss: IssueInput) => `a fault name uses only ${NAME_CHARS} (checks refer to it as fault:<name>), found ${describeValue(iss.input)}`,
  })
  .meta({ description: "Unique fault name; checks refer to it as fault:<name> or recovery:<name>." });

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
    if (typeof input === "number") return `expected ${Number.isFinite(input) ? "a whole number" : "a finite number"}, found ${input}`;
    if (typeof input === "string" && /^\d+(?:\.\d+)?%$/.test(input)) {
      return `expected a plain number without "%" (write ${input.slice(0, -1)}), found ${describeValue(input)}`;
    }
    return `expected ${kind === "integer" ? "a whole number" : "a number"}, found ${describeValue(input)}`;
  };
}

function numberSchema(kind: NumberKind) {
  return kind === "integer" ? z.int({ error: notANumber(kind) }) : z.number({ error: notANumber(kind) });
}

function numberBetween(min: number, max: number, kind: NumberKind = "number") {
  const outOfRange = (iss: IssueInput) => `must be between ${min} and ${max}, found ${describeValue(iss.input)}`;
  return numberSchema(kind).min(min, { error: outOfRange }).max(max, { error: outOfRange });
}

function numberAtLeast(min: number, kind: NumberKind = "number") {
  return numberSchema(kind).min(min, { error: (iss: IssueInput) => `must be at least ${min}, found ${describeValue(iss.input)}` });
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

function duration(options: { positive?: boolean } = {}) {
  return z
    .string({ error: notADuration })
    .regex(new RegExp(DURATION_PATTERN), { abort: true, error: (iss: IssueInput) => errorMessage(() => parseDuration(String(iss.input))) })
    .refine((text) => !options.positive || parseDuration(text) > 0, { error: "must be longer than 0s" })
    .meta({ description: `A duration such as ${DURATION_EXAMPLES}.` });
}

const positiveDuration = duration({ positive: true });

const durationOrRange = z
  .string({ error: notADuration })
  .regex(new RegExp(DURATION_OR_RANGE_PATTERN), {
    abort: true,
    error: (iss: IssueInput) => errorMessage(() => parseDurationOrRange(String(iss.input))),
  })
  .superRefine((text, ctx) => {
    const message = errorMessage(() => parseDurationOrRange(text));
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  })
  .meta({ description: `A duration, or a range "2ms..20ms" drawn from uniformly per request.` });

// --- services ------------------------------------------------------------------------------

const httpPath = z.string().regex(/^\//, {
  error: (iss: IssueInput) => `expected a path starting with "/", found ${describeValue(iss.input)}`,
});

/** A command as an exec-form list: ["node", "server.js"]. */
const commandList = z.array(z.string(), {
  error: (iss: IssueInput) => `expected a command as a list of strings, e.g. ["node", "server.js"], found ${describeValue(iss.input)}`,
});

const buildSchema = z.union(
  [
    z.string().min(1).meta({ description: "The build context: a folder, relative to this file." }),
    z.strictObject({
      context: z.string().min(1).meta({ description: "The build context: a folder, relative to this file." }),
      dockerfile: z.string().min(1).optional().meta({ description: "The Dockerfile, relative to the context.", default: "Dockerfile" }),
      args: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().meta({ description: "Build arguments." }),
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
);

export const serviceSchema = z
  .strictObject({
    replicas: numberBetween(1, 20, "integer").meta({ description: "Number of replicas (pods).", default: DEFAULTS.service.replicas }),
    calls: z.array(serviceRef).meta({
      description:
        "Services the built-in fixture calls on every request, in order. For a user image: the services its app calls " +
        "(edges the report and checks use); its sidecar routes to every service either way.",
    }),
    latency: durationOrRange.meta({ description: `The fixture's own service time, or a range "2ms..20ms".`, default: DEFAULTS.service.latency }),
    errorRate: numberBetween(0, 1).meta({ description: "The fixture answers 500 with this probability, 0..1.", default: DEFAULTS.service.errorRate }),
    port: numberBetween(1, 65535, "integer").meta({ description: "Port the app listens on.", default: DEFAULTS.service.port }),
    health: healthSchema.meta({
      description: `How the mesh knows the app is ready: an HTTP path, "tcp" or { command }. Default: ${DEFAULTS.service.health} for the fixture, "tcp" for a user image.`,
    }),
    image: z.string().min(1).meta({ description: "A user image to run instead of the fixture; it must exist locally (nothing is pulled)." }),
    build: buildSchema.meta({ description: "Build a user image from a Dockerfile instead of the fixture." }),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).meta({ description: "Environment of a user image." }),
    command: commandList.meta({ description: "Command of a user image (replaces its CMD)." }),
    entrypoint: commandList.meta({ description: "Entrypoint of a user image (replaces its ENTRYPOINT)." }),
    user: z.string().min(1).meta({ description: "User the app of a user image runs as." }),
    workingDir: z.string().min(1).meta({ description: "Working directory of a user image's app." }),
    dependsOn: z.array(serviceRef).meta({ description: "Services whose apps must be ready before this one starts." }),
  })
  .partial();

// --- policies ------------------------------------------------------------------------------

const retryOnCondition = oneOf(
  (error) => [
    z.enum(["5xx", "reset", "connect-failure", "timeout"], { error }),
    z.string({ error }).regex(/^[1-5]\d\d$/, { error }),
    z.int({ error }).min(100, { error }).max(599, { error }),
  ],
  "5xx, reset, connect-failure, timeout or an HTTP status code such as 503",
);

const retryBudgetSchema = z
  .strictObject({
    ratio: numberBetween(0, 1).meta({ description: "Retries allowed as a fraction of requests.", default: DEFAULTS.retryBudget.ratio }),
    minPerSecond: numberAtLeast(0, "integer").meta({ description: "Retries always allowed per second.", default: DEFAULTS.retryBudget.minPerSecond }),
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
        maxConnections: numberAtLeast(1, "integer"),
        maxPending: numberAtLeast(0, "integer"),
      })
      .partial(),
    outlierDetection: z
      .strictObject({
        consecutive5xx: numberAtLeast(1, "integer").meta({ default: DEFAULTS.outlierDetection.consecutive5xx }),
        interval: positiveDuration.meta({ default: DEFAULTS.outlierDetection.interval }),
        baseEjectionTime: positiveDuration.meta({ default: DEFAULTS.outlierDetection.baseEjectionTime }),
        maxEjectionPercent: percent.meta({ default: DEFAULTS.outlierDetection.maxEjectionPercent }),
      })
      .partial(),
    loadBalancer: z.enum(["round-robin", "least-request", "random"]).meta({ default: DEFAULTS.policy.loadBalancer }),
    healthCheck: z
      .strictObject({
        path: httpPath.meta({ description: "Default: the service's health path." }),
        interval: positiveDuration.meta({ default: DEFAULTS.healthCheck.interval }),
        unhealthyAfter: numberAtLeast(1, "integer").meta({ default: DEFAULTS.healthCheck.unhealthyAfter }),
        healthyAfter: numberAtLeast(1, "integer").meta({ default: DEFAULTS.healthCheck.healthyAfter }),
      })
      .partial(),
  })
  .partial();

// --- load ----------------------------------------------------------------------------------

const requestSchema = z
  .strictObject({
    method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]).meta({ default: DEFAULTS.load.request.method }),
    path: httpPath.meta({ default: DEFAULTS.load.request.path }),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
    weight: positiveNumber().meta({ description: "Relative share of this request in the mix.", default: DEFAULTS.load.request.weight }),
  })
  .partial();

export const loadSchema = z
  .strictObject({
    target: serviceRef.meta({ description: "The ingress service load is sent to; default: the first service." }),
    rate: positiveNumber().meta({ description: "Requests per second.", default: DEFAULTS.load.rate }),
    connections: numberBetween(1, 10_000, "integer").meta({ default: DEFAULTS.load.connections }),
    duration: positiveDuration.meta({ default: DEFAULTS.load.duration }),
    requests: z.array(requestSchema).min(1),
  })
  .partial();

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
  at: timing.at.optional(),
  duration: timing.duration.optional(),
};

/** Faults the target's sidecar applies per request. */
const perRequest = {
  ...targeted,
  edge: edgeSchema.optional().meta({ description: "Only requests on this edge; `to` is the target." }),
  match: z.strictObject({ header: z.string().min(1), value: z.string() }).optional().meta({ description: "Only requests with this header value." }),
  percent: percent.optional().meta({ default: DEFAULTS.fault.percent }),
};

const abortFault = z.strictObject({
  kind: z.literal("abort"),
  ...perRequest,
  status: numberBetween(200, 599, "integer").optional().meta({ description: "HTTP status answered.", default: DEFAULTS.fault.abortStatus }),
});
const delayFault = z.strictObject({ kind: z.literal("delay"), ...perRequest, delay: durationOrRange });
const blackholeFault = z.strictObject({ kind: z.literal("blackhole"), ...perRequest });
const resetFault = z.strictObject({ kind: z.literal("reset"), ...perRequest });
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
const bandwidthFault = z.strictObject({
  kind: z.literal("bandwidth"),
  ...targeted,
  rate: z.string().regex(/^\d+(?:\.\d+)?(?:bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/, {
    error: (iss: IssueInput) => `expected a rate like "1mbit", "500kbit" or "10mbps", found ${describeValue(iss.input)}`,
  }),
});

export const faultSchema = z.discriminatedUnion("kind", [
  abortFault,
  delayFault,
  blackholeFault,
  resetFault,
  partitionFault,
  killFault,
  pauseFault,
  bandwidthFault,
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
] as const;
export type PropertyName = (typeof PROPERTY_NAMES)[number];

const sloCheck = z.strictObject({
  slo: z.string().min(1).meta({ description: `An SLO expression, e.g. "error_rate < 1%" or "p(99) < 800ms".` }),
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
  slos: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .meta({ description: `SLO expressions a recovery or isolation check judges, e.g. ["error_rate < 1%", "p(99) < 300ms"]. Default: the scenario's SLO checks.` }),
  path: httpPath.optional().meta({ description: "isolation: the route is the client requests to this path (from load.requests)." }),
});

export const checkSchema = z.union([sloCheck, propertyCheck], {
  error: `a check needs either "slo" (an SLO expression) or "property" (a resilience property)`,
});

// --- scenario ------------------------------------------------------------------------------

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
      .optional()
      .meta({ description: "Istio VirtualService and DestinationRule files to import, relative to this file." }),
  })
  .catchall(policySchema)
  .meta({ description: "Mesh policy per destination service." });

export const scenarioSchema = z
  .strictObject({
    name: scenarioName,
    description: z.string().optional(),
    seed: numberBetween(0, 2 ** 32 - 1, "integer").optional().meta({ description: "Makes every probabilistic choice repeatable." }),
    dataPlane: dataPlaneName.optional().meta({ default: DEFAULTS.dataPlane }),
    topology: topologySchema.optional(),
    services: z
      .record(serviceName, serviceSchema.nullable())
      .refine((services) => Object.keys(services).length > 0, { error: "a scenario needs at least one service" })
      .optional()
      .meta({ description: "The services to mesh; with topology.compose, additions to and overrides of the imported ones." }),
    policies: policiesSchema.optional(),
    load: loadSchema.optional(),
    faults: z.array(faultSchema).optional(),
    checks: z.array(checkSchema).optional(),
  })
  .meta({
    title: "meshquake scenario (v1)",
    // `services` or a compose file to import them from (zod checks this in load-scenario.ts).
    anyOf: [{ required: ["services"] }, { required: ["topology"] }],
  });

export type ScenarioSpec = z.infer<typeof scenarioSchema>;
export type TopologySpec = z.infer<typeof topologySchema>;
export type BuildSpec = z.infer<typeof buildSchema>;
export type HealthSpec = z.infer<typeof healthSchema>;
export type ServiceSpec = z.infer<typeof serviceSchema>;
export type PolicySpec = z.infer<typeof policySchema>;
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
