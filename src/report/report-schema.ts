// What a report.json must hold for the reporters to render it: the RunReport type as a zod
// schema. `meshquake report` re-renders only a file that passes it, so a hand-edited or hostile
// report is a located usage error, never a reporter that throws half-way. Objects are not
// strict: a newer meshquake may add fields (schemaVersion 1 only ever grows).
import { z } from "zod";
import type { RunReport } from "../model/run-report.js";

const count = z.number().int().min(0);
const time = z.number();
const text = z.string();
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();
const record = <T extends z.ZodType>(value: T) => z.record(z.string(), value);
const verdict = z.enum(["passed", "failed", "inconclusive", "error"]);

const location = z.object({ line: count, col: count, file: text.optional() });
const latencyRange = z.object({ minMs: time, maxMs: time });
const latency = z.object({ p50: time, p90: time, p99: time, p999: time, max: time });
const lagSummary = z.object({ p50: time, p99: time, max: time });
const generatorWindow = z.object({
  intended: count,
  sent: count,
  notSent: count,
  lagUs: nullable(lagSummary),
  keptUp: nullable(z.boolean()),
  reason: nullable(text),
});

const readiness = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("http"), path: text }),
  z.object({ kind: z.literal("tcp") }),
  z.object({ kind: z.literal("exec"), command: z.array(text) }),
]);

const imageSource = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("image"), ref: text }),
  z.object({ kind: z.literal("build"), context: text, dockerfile: text, args: record(text), target: nullable(text) }),
]);

const service = z.object({
  name: text,
  replicas: count,
  calls: z.array(text),
  latency: latencyRange,
  errorRate: z.number(),
  port: count,
  health: text,
  image: z
    .object({
      source: imageSource,
      env: record(text),
      command: nullable(z.array(text)),
      entrypoint: nullable(z.array(text)),
      user: nullable(text),
      workingDir: nullable(text),
      readiness,
      upstreams: z.array(text),
      origin: location.extend({ file: text }),
    })
    .optional(),
  dependsOn: z.array(text).optional(),
});

const policy = z.object({
  timeoutMs: time,
  retries: nullable(
    z.object({
      attempts: count,
      perTryTimeoutMs: nullable(time),
      retryOn: z.array(z.custom<`${number}` | "5xx" | "reset" | "connect-failure" | "timeout">((v) => typeof v === "string")),
      budget: nullable(z.object({ ratio: z.number(), minPerSecond: z.number(), windowMs: time })),
    }),
  ),
  circuitBreaker: nullable(z.object({ maxConnections: nullable(count), maxPending: nullable(count) })),
  outlierDetection: nullable(z.object({ consecutive5xx: count, intervalMs: time, baseEjectionTimeMs: time, maxEjectionPercent: z.number() })),
  loadBalancer: z.enum(["round-robin", "least-request", "random", "peak-ewma"]),
  healthCheck: nullable(z.object({ path: text, intervalMs: time, unhealthyAfter: count, healthyAfter: count })),
  // Absent in reports written before rate limits.
  rateLimit: nullable(z.object({ requestsPerSecond: z.number(), burst: count })).default(null),
});

const faultBase = {
  name: text,
  target: text,
  replicas: z.array(count),
  from: nullable(text),
  match: nullable(z.object({ header: text, value: text })),
  probability: z.number(),
  atMs: time,
  durationMs: time,
  location,
};

const endpoint = z.object({ service: text, replica: nullable(count) });

/** Each kind's `attributes` (scenario/types.ts FaultAttributes). */
const fault = z.discriminatedUnion("kind", [
  z.object({ ...faultBase, kind: z.literal("abort"), status: count }),
  z.object({ ...faultBase, kind: z.literal("delay"), delay: latencyRange }),
  z.object({ ...faultBase, kind: z.enum(["blackhole", "reset", "pause"]), attributes: z.object({}) }),
  z.object({ ...faultBase, kind: z.literal("partition"), attributes: z.object({ between: z.tuple([endpoint, endpoint]), direction: z.enum(["both", "oneway"]) }) }),
  z.object({ ...faultBase, kind: z.literal("kill"), attributes: z.object({ restart: z.boolean() }) }),
  z.object({ ...faultBase, kind: z.literal("bandwidth"), attributes: z.object({ rate: text }) }),
  z.object({ ...faultBase, kind: z.literal("ratelimit"), attributes: z.object({ retryAfterMs: time }) }),
  z.object({ ...faultBase, kind: z.literal("shift"), attributes: z.object({ split: record(z.number().min(0).max(1)) }) }),
]);

const sloExpression = z.object({
  source: text,
  metric: z.discriminatedUnion("kind", [z.object({ kind: z.literal("error_rate") }), z.object({ kind: z.literal("percentile"), percentile: z.number() })]),
  op: z.enum(["<", "<=", ">", ">="]),
  threshold: z.number(),
});

const windowRef = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("whole") }),
  z.object({ kind: z.literal("baseline") }),
  z.object({ kind: z.literal("fault"), fault: text }),
  z.object({ kind: z.literal("recovery"), fault: text }),
]);

const check = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("slo"), name: text, expression: sloExpression, window: windowRef, location }),
  z.object({ kind: z.literal("property"), name: text, property: text, params: record(z.unknown()), location }),
]);

const scenario = z.object({
  // It names the folder the artefacts go to: a scenario name, as validation allows it.
  name: text.regex(/^[a-z0-9-]{1,63}$/, { error: (iss) => `expected a scenario name ([a-z0-9-], at most 63 characters), found ${JSON.stringify(iss.input)}` }),
  description: text,
  seed: z.number(),
  dataPlane: z.enum(["haproxy", "envoy"]),
  source: z.object({ file: text, text }),
  services: z.array(service),
  policies: record(policy),
  // Reports from before the open model carry only target, rate, connections, duration and requests:
  // their load was closed (autocannon), and the defaults below say so.
  load: z
    .object({
      target: text,
      model: z.enum(["open", "closed"]).default("closed"),
      rate: z.number(),
      arrivals: z.enum(["constant", "poisson"]).default("constant"),
      connections: count,
      maxInFlight: count.optional(),
      timeoutMs: time.default(10_000),
      maxLagMs: time.default(10),
      durationMs: time,
      requests: z.array(z.object({ method: text, path: text, headers: record(text), body: nullable(text), weight: z.number() })),
      // Added with gRPC load (absent in older reports, whose load was always HTTP).
      protocol: z.enum(["http", "grpc"]).default("http"),
      grpc: nullable(z.object({ method: text, message: record(z.unknown()), metadata: record(text), protoFile: text })).default(null),
    })
    .transform(({ maxInFlight, ...load }) => ({ ...load, maxInFlight: maxInFlight ?? load.connections })),
  faults: z.array(fault),
  checks: z.array(check),
});

const checkResult = z.object({
  name: text,
  kind: z.enum(["slo", "property"]),
  status: verdict,
  expression: text.optional(),
  property: text.optional(),
  window: text.optional(),
  observed: nullable(z.number()),
  threshold: nullable(z.number()),
  unit: text,
  evidence: record(z.unknown()),
  reason: nullable(text),
  location,
});

const windowStats = record(z.object({ requests: count, errors: count, notSent: count.optional(), latencyUs: latency, histogram: text }));

const client = z.object({
  requests: count,
  errors: count,
  statusCounts: record(count),
  latencyUs: latency,
  timeline: z.array(z.object({ t: time, requests: count, errors: count, latencyUs: z.object({ p50: time, p90: time, p99: time }) })),
  windows: windowStats,
  paths: record(z.object({ requests: count, errors: count, windows: windowStats })).optional(),
});

const faultRecord = z.object({
  name: text,
  kind: text,
  target: text,
  replicas: z.array(count),
  scheduledAt: time,
  scheduledEnd: time,
  appliedAt: nullable(time),
  revertedAt: nullable(time),
  configuredPercent: z.number(),
  observedPercent: nullable(z.number()),
  activationMs: nullable(time),
  eligible: count,
  affected: count,
  applySentAt: nullable(time).optional(),
  revertSentAt: nullable(time).optional(),
  until: nullable(time).optional(),
  armedAt: nullable(time).optional(),
  revertedBy: z.enum(["schedule", "teardown"]).nullable().optional(),
  error: nullable(text).optional(),
  pods: z.array(text).optional(),
  observedBy: text.optional(),
  observedSource: text.optional(),
  observationNote: nullable(text).optional(),
  tolerance: nullable(z.number()).optional(),
  landed: z.boolean().optional(),
  landedReason: nullable(text).optional(),
  evidence: z.array(text).optional(),
  proxyCounters: nullable(z.object({ seen: count, hits: count })).optional(),
  deadMan: text.optional(),
  determinism: text.optional(),
});

const edge = z.object({
  from: text,
  to: text,
  requests: count,
  attempts: count,
  retries: count,
  statusCounts: record(count),
  byReplica: record(count),
  attemptsByReplica: record(count).optional(),
  retriesPerRequest: record(count).optional(),
  maxAttemptsPerRequest: count.optional(),
  terminations: record(count).optional(),
  attemptOutcomes: record(count).optional(),
  failover: z.object({ otherReplica: count, sameReplica: count }).optional(),
  budgetDenied: count.optional(),
  examples: z
    .array(
      z.object({
        at: time,
        pod: text,
        requestId: text,
        status: z.number(),
        cause: text,
        attempts: z.array(z.object({ replica: count, status: z.number(), outcome: text, durationMs: time })),
      }),
    )
    .optional(),
});

const replica = z.object({
  service: text,
  index: count,
  version: text.optional(),
  requests: count,
  statusCounts: record(count),
  ejections: z.array(z.object({ at: time, until: nullable(time), by: text.optional(), count: count.optional() })),
  ejectionsSkipped: count.optional(),
  healthChanges: z.array(z.object({ at: time, healthy: z.boolean(), by: text, check: text })).optional(),
});

const attribution = z.object({
  failed: count,
  examined: count,
  notKept: count,
  traced: count,
  byCause: record(count),
  byEdge: z.array(z.object({ from: text, to: text, failed: count, byCause: record(count) })),
  byFault: record(count),
  byLastTry: record(count),
  examples: z.array(
    z.object({
      requestId: nullable(text),
      at: time,
      clientStatus: text,
      cause: text,
      edge: nullable(z.object({ from: text, to: text })),
      fault: nullable(text),
      lastTry: nullable(text),
      hops: z.array(text),
      detail: text,
    }),
  ),
  notes: z.array(text),
});

const repeat = z.object({
  runs: count,
  quorum: count,
  reports: z.array(z.object({ runId: text, verdict, exitCode: count })),
  checks: z.array(
    z.object({
      name: text,
      kind: z.enum(["slo", "property"]),
      statuses: z.array(verdict),
      passed: count,
      failed: count,
      inconclusive: count,
      error: count,
      passRate: z.object({ estimate: z.number(), low: z.number(), high: z.number() }),
      observed: nullable(
        z.object({ unit: text, values: z.array(z.number()), mean: nullable(z.number()), low: nullable(z.number()), high: nullable(z.number()), method: text }),
      ),
      gate: verdict,
    }),
  ),
  verdict,
  exitCode: count,
  method: text,
});

export const runReportSchema = z.object({
  schemaVersion: z.literal(1),
  tool: z.object({ name: z.literal("meshquake"), version: text }),
  runId: text,
  startedAt: text,
  scenario,
  verdict,
  exitCode: count,
  errors: z.array(z.object({ stage: text, message: text })),
  timings: z.object({ setupMs: time, runMs: time, teardownMs: time, steps: record(time) }),
  checks: z.array(checkResult),
  windows: z.array(z.object({ name: text, start: time, end: time })),
  faults: z.array(faultRecord),
  client,
  edges: z.array(edge),
  replicas: z.array(replica),
  warnings: z.array(text),
  environment: z.object({ node: text, platform: text, docker: nullable(text), dataPlane: text, image: nullable(text) }),
  load: z
    .object({
      durationMs: time,
      aborted: z.boolean(),
      recorded: count,
      unfinished: count,
      dropped: count,
      staggerGroups: count,
      // Added with the open model (absent in older reports).
      model: z.enum(["open", "closed"]).optional(),
      // Added with gRPC load: present only for a gRPC load.
      protocol: z.literal("grpc").optional(),
      arrivals: z.enum(["constant", "poisson"]).optional(),
      rate: z.number().optional(),
      maxInFlight: count.optional(),
      connections: count.optional(),
      scheduling: z.enum(["realtime", "nice", "normal"]).optional(),
      lagToleranceUs: time.optional(),
      intended: count.optional(),
      sent: count.optional(),
      notSent: count.optional(),
      lagUs: nullable(lagSummary).optional(),
      perSecond: z.array(z.object({ t: time, intended: count, sent: count, notSent: count, lagUs: nullable(lagSummary) })).optional(),
      windows: record(generatorWindow).optional(),
      keptUp: nullable(z.boolean()).optional(),
    })
    .optional(),
  meshTimeline: z
    .object({
      edges: z.array(z.object({ from: text, to: text, points: z.array(z.object({ t: time, requests: count, attempts: count, retries: count, errors: count })) })),
      replicas: z.array(z.object({ service: text, index: count, requests: z.array(count) })),
    })
    .optional(),
  attribution: attribution.optional(),
  repeat: repeat.optional(),
});

/** Compile-time proof that the schema covers every field of RunReport the reporters may read. */
export type SchemaCoversRunReport = z.infer<typeof runReportSchema> extends RunReport ? true : never;
const covers: SchemaCoversRunReport = true;
void covers;
