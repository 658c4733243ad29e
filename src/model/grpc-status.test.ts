import { describe, expect, it } from "vitest";
import { grpcStatusCode, grpcStatusName, grpcStatusOfHttp, httpStatusOfGrpc, isGrpcStatusName } from "./grpc-status.js";
import { decodeStatus, encodeStatus } from "../load/open-wire.js";
import { isClientError } from "../observe/client-recorder.js";

describe("gRPC statuses", () => {
  it("names every code and reads an unknown one as UNKNOWN", () => {
    expect(grpcStatusName(0)).toBe("OK");
    expect(grpcStatusName(14)).toBe("UNAVAILABLE");
    expect(grpcStatusName(16)).toBe("UNAUTHENTICATED");
    expect(grpcStatusName(99)).toBe("UNKNOWN");
    expect(grpcStatusCode("RESOURCE_EXHAUSTED")).toBe(8);
    expect(grpcStatusCode("503")).toBeNull();
    expect(isGrpcStatusName("DEADLINE_EXCEEDED")).toBe(true);
    expect(isGrpcStatusName("error")).toBe(false);
  });

  it("maps to and from HTTP as gRPC and Envoy do", () => {
    expect(grpcStatusOfHttp(503)).toBe(14);
    expect(grpcStatusOfHttp(500)).toBe(2);
    expect(httpStatusOfGrpc(14)).toBe(503);
    expect(httpStatusOfGrpc(8)).toBe(429);
    expect(httpStatusOfGrpc(13)).toBe(500);
  });

  it("only OK is a client success", () => {
    expect(isClientError("OK")).toBe(false);
    expect(isClientError("UNAVAILABLE")).toBe(true);
    expect(isClientError(200)).toBe(false);
    expect(isClientError("error")).toBe(true);
  });

  it("crosses the generator's wire unchanged", () => {
    for (const s of ["OK", "UNAVAILABLE", "UNAUTHENTICATED", 200, 503, "error", "timeout", "notSent"] as const) {
      expect(decodeStatus(encodeStatus(s))).toBe(s);
    }
  });
});
