// `loadBalancer: peak-ewma` in the HAProxy sidecar: the config lines around
// images/haproxy/ewma.lua, which implements Linkerd's balancer (peak-sensitive EWMA of each
// replica's response time × (requests in flight + 1), the cheaper of two random replicas).
// HAProxy 2.6 has no such balance algorithm: the Lua fetch picks the first try's replica and
// `use-server` routes to it; HAProxy's own `balance` chooses retries and the fallback.
import { attemptProxy, replicaServer } from "./names.js";

/**
 * linkerd2-proxy's outbound balancer settings (EWMA_DECAY, EWMA_DEFAULT_RTT): the decay is the
 * time constant τ of e^(-elapsed/τ), not a half-life.
 */
export const LINKERD_PEAK_EWMA = { decayMs: 10_000, defaultRttMs: 30 } as const;

/** HAProxy's algorithm for what the Lua pick does not choose: retries, and no usable replica. */
export const PEAK_EWMA_FALLBACK_BALANCE = "random(2)";

export interface PeakEwmaTarget {
  service: string;
  replicas: readonly number[];
  /** Replicas are health-checked (their routing servers `track` the attempt listeners'). */
  healthChecked: boolean;
  /** Routing servers have a maxconn (the circuit breaker): a full one is not a candidate. */
  limited: boolean;
}

/** ewma.lua's MQ_EWMA word for one destination. */
export function peakEwmaWord(t: PeakEwmaTarget): string {
  return `${t.service}:${t.replicas.join(".")}:${LINKERD_PEAK_EWMA.decayMs}:${LINKERD_PEAK_EWMA.defaultRttMs * 1000}`;
}

/**
 * The routing backend's lines: each usable replica's requests in flight into a txn variable
 * (ewma.lua cannot call server fetches itself), the pick, and one use-server per replica.
 * Usable: its routing server is up (not ejected, not unresolved: policy.lua puts those in
 * maintenance), its attempt listener's health check passes (`srv_is_up` on a tracking server
 * ignores the tracked check, so the checked server is asked), and it is below its maxconn.
 */
export function peakEwmaRoutingLines(t: PeakEwmaTarget): string[] {
  const usable = (i: number) => {
    const routing = `${t.service}/${replicaServer(i)}`;
    return [
      `{ srv_is_up(${routing}) }`,
      ...(t.healthChecked ? [`{ srv_is_up(${attemptProxy(t.service, i)}/${replicaServer(i)}) }`] : []),
      ...(t.limited ? [`{ srv_conn_free(${routing}) gt 0 }`] : []),
    ].join(" ");
  };
  return [
    ...t.replicas.map((i) => `http-request set-var(txn.mq_inflight_${i}) srv_conn(${t.service}/${replicaServer(i)}) if ${usable(i)}`),
    `http-request set-var(txn.mq_pick) lua.mq_ewma_pick(${t.service})`,
    ...t.replicas.map((i) => `use-server ${replicaServer(i)} if { var(txn.mq_pick) -m str ${replicaServer(i)} }`),
  ];
}

/** The attempt listener's request line: when the try came in (µs). */
export const PEAK_EWMA_TRY_START = "http-request set-var(txn.mq_ewma_t0) date(0,us)";

/** The attempt listener's after-response lines: the try's response time into the estimate. */
export function peakEwmaObserveLines(service: string, index: number): string[] {
  return ["http-after-response set-var(txn.mq_ewma_t1) date(0,us)", `http-after-response set-var(txn.mq_ewma) lua.mq_ewma_observe(${service},${index})`];
}
