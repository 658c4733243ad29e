// What a service speaks, and the retry conditions only gRPC has (named as Istio's retryOn names
// them). Pure: the scenario, the plan and the data plane read it.

export const PROTOCOLS = ["http", "http2", "grpc"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** gRPC retry conditions, each the gRPC status it retries (Istio/Envoy x-envoy-retry-grpc-on). */
export const GRPC_RETRY_CODES = {
  cancelled: 1,
  "deadline-exceeded": 4,
  "resource-exhausted": 8,
  internal: 13,
  unavailable: 14,
} as const;
export type GrpcRetryOn = keyof typeof GRPC_RETRY_CODES;
export const GRPC_RETRY_ON = Object.keys(GRPC_RETRY_CODES) as GrpcRetryOn[];

export function isGrpcRetryOn(on: string): on is GrpcRetryOn {
  return Object.hasOwn(GRPC_RETRY_CODES, on);
}

/** The status a grpc abort answers when it names none: UNAVAILABLE, what a failing replica says. */
export const DEFAULT_ABORT_GRPC_STATUS = 14;

/** True for services whose sidecars speak HTTP/2 to the app and between each other. */
export function speaksH2(protocol: Protocol | undefined): boolean {
  return protocol === "http2" || protocol === "grpc";
}
