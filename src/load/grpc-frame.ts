// gRPC over HTTP/2 as the generator needs it, apart from any socket: a message's frame (the
// length-prefixed message of the gRPC wire format) and the status a call ends with, from what
// its stream showed. Pure.
import { grpcStatusName, grpcStatusOfHttp, type GrpcStatusName } from "../model/grpc-status.js";

/** A message as a gRPC body carries it: compressed flag 0, its length (4 bytes, big-endian), its bytes. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

/** What a call's stream showed by the time it closed (or its status arrived). */
export interface CallEnd {
  /** `:status` of the response headers; null when no response came. */
  httpStatus: number | null;
  /** `grpc-status` from the response headers (trailers-only) or the trailers, as sent. */
  grpcStatus: string | undefined;
  /** The stream or its session failed (an error, or an RST_STREAM other than NO_ERROR). */
  failed: boolean;
}

/**
 * The call's client status: grpc-status when the server sent one; else a proxy's own HTTP answer
 * read as gRPC clients read it (503 → UNAVAILABLE); else "error" when the stream failed or never
 * answered; a 200 that ends without grpc-status is UNKNOWN (as grpc-js reads it).
 */
export function callStatus(end: CallEnd): GrpcStatusName | "error" {
  if (end.grpcStatus !== undefined) return grpcStatusName(parseGrpcStatus(end.grpcStatus));
  if (end.httpStatus !== null && end.httpStatus !== 200) return grpcStatusName(grpcStatusOfHttp(end.httpStatus));
  if (end.failed || end.httpStatus === null) return "error";
  return "UNKNOWN";
}

/** A grpc-status value: a decimal code; anything else reads as UNKNOWN (2). */
export function parseGrpcStatus(value: string): number {
  return /^\d{1,3}$/.test(value.trim()) ? Number(value.trim()) : 2;
}
