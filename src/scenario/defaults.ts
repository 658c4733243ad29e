// Every default a scenario can leave out, in one table: resolve.ts applies them and the JSON
// Schema shows them to editors. Durations are written as the user would write them.

export const DEFAULTS = {
  dataPlane: "haproxy",
  mesh: { mtls: false },
  seed: 1,
  service: {
    replicas: 1,
    latency: "1ms",
    errorRate: 0,
    port: 8080,
    health: "/healthz",
  },
  /** A destination without a policy gets a plain proxy: nothing resilient unless asked for. */
  policy: {
    timeout: "30s",
    loadBalancer: "round-robin",
  },
  retries: {
    /** Tries in all, the first included (as the report's per-edge `attempts`): one retry. */
    attempts: 2,
    retryOn: ["5xx", "connect-failure", "reset"],
  },
  /** Linkerd's retry-budget defaults. */
  retryBudget: { ratio: 0.2, minPerSecond: 10, window: "10s" },
  /** Envoy's outlier-detection defaults. */
  outlierDetection: { consecutive5xx: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 10 },
  /** HAProxy's health-check defaults (inter 2s, fall 3, rise 2); the path is the service's `health`. */
  healthCheck: { interval: "2s", unhealthyAfter: 3, healthyAfter: 2 },
  load: {
    rate: 50,
    /** Without `model`: open, unless `connections` is given (what such a scenario always meant). */
    model: "open",
    arrivals: "constant",
    /** The closed model's pool. */
    connections: 8,
    timeout: "10s",
    duration: "30s",
    request: { method: "GET", path: "/", weight: 1 },
  },
  fault: {
    percent: 100,
    at: "0s",
    abortStatus: 503,
    /** A ratelimit fault's Retry-After. */
    retryAfter: "1s",
    partitionDirection: "both",
    killRestart: true,
  },
  checkWindow: "whole",
  /**
   * Each replica's app container. The fixture (Node 18) measured at ~45 MiB and 11 threads under
   * load; a user image gets room for a JVM or a worker pool.
   */
  resources: {
    fixture: { memory: "256m", pids: 128 },
    userImage: { memory: "1g", pids: 1024 },
  },
} as const;
