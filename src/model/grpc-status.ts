// gRPC status codes (grpc/doc/statuscodes.md) and their names: how a gRPC request's outcome is
// counted, shown and matched everywhere an HTTP status would be. A gRPC request's client status
// is its name ("OK", "UNAVAILABLE"); only "OK" is a success. Pure: no dependencies.

export const GRPC_STATUS_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

export type GrpcStatusName = (typeof GRPC_STATUS_NAMES)[number];

export const GRPC_OK = 0;
export const GRPC_CANCELLED = 1;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;

const BY_NAME = new Map<string, number>(GRPC_STATUS_NAMES.map((name, code) => [name, code]));

/** The name of a code 0..16; UNKNOWN for any other (as gRPC clients read an unknown code). */
export function grpcStatusName(code: number): GrpcStatusName {
  return GRPC_STATUS_NAMES[code] ?? "UNKNOWN";
}

export function isGrpcStatusName(value: unknown): value is GrpcStatusName {
  return typeof value === "string" && BY_NAME.has(value);
}

/** The code of a name, or null. */
export function grpcStatusCode(name: string): number | null {
  return BY_NAME.get(name) ?? null;
}

/**
 * What a gRPC client reads from an HTTP response that carries no grpc-status (a proxy's own
 * answer): grpc/doc/http-grpc-status-mapping.md.
 */
export function grpcStatusOfHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GRPC_INTERNAL;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_UNAVAILABLE;
    default:
      return 2;
  }
}

/**
 * The HTTP status a gRPC status stands for inside the mesh (Envoy's grpcToHttpStatus, which its
 * outlier detection and stats use): how a gRPC failure counts as a 5xx for ejection and breakers.
 */
export function httpStatusOfGrpc(code: number): number {
  switch (code) {
    case 0:
      return 200;
    case 1:
      return 499;
    case 3:
    case 9:
    case 11:
      return 400;
    case 4:
      return 504;
    case 5:
      return 404;
    case 6:
    case 10:
      return 409;
    case 7:
      return 403;
    case 8:
      return 429;
    case 12:
      return 501;
    case 14:
      return 503;
    case 16:
      return 401;
    default:
      return 500;
  }
}
