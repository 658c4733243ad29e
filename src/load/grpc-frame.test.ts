import { describe, expect, it } from "vitest";
import { callStatus, grpcFrame, parseGrpcStatus } from "./grpc-frame.js";

describe("grpcFrame", () => {
  it("prefixes the message with flag 0 and its big-endian length", () => {
    expect([...grpcFrame(new Uint8Array([0x0a, 0x02, 0x68, 0x69]))]).toEqual([0, 0, 0, 0, 4, 0x0a, 0x02, 0x68, 0x69]);
    expect([...grpcFrame(new Uint8Array(0))]).toEqual([0, 0, 0, 0, 0]);
    expect([...grpcFrame(new Uint8Array(0x10203)).subarray(0, 5)]).toEqual([0, 0, 1, 2, 3]);
  });
});

describe("callStatus", () => {
  it("grpc-status wins, from the headers (trailers-only) or the trailers, whatever happened after", () => {
    expect(callStatus({ httpStatus: 200, grpcStatus: "0", failed: false })).toBe("OK");
    expect(callStatus({ httpStatus: 200, grpcStatus: "14", failed: true })).toBe("UNAVAILABLE");
    expect(callStatus({ httpStatus: 503, grpcStatus: "8", failed: false })).toBe("RESOURCE_EXHAUSTED");
    expect(callStatus({ httpStatus: 200, grpcStatus: "99", failed: false })).toBe("UNKNOWN");
    expect(callStatus({ httpStatus: 200, grpcStatus: "ok", failed: false })).toBe("UNKNOWN");
  });

  it("a proxy's own HTTP answer without grpc-status reads as gRPC clients read it", () => {
    expect(callStatus({ httpStatus: 503, grpcStatus: undefined, failed: false })).toBe("UNAVAILABLE");
    expect(callStatus({ httpStatus: 404, grpcStatus: undefined, failed: false })).toBe("UNIMPLEMENTED");
    expect(callStatus({ httpStatus: 500, grpcStatus: undefined, failed: true })).toBe("UNKNOWN");
  });

  it("a failed stream or one that never answered is an error; a 200 ending without a status is UNKNOWN", () => {
    expect(callStatus({ httpStatus: null, grpcStatus: undefined, failed: false })).toBe("error");
    expect(callStatus({ httpStatus: 200, grpcStatus: undefined, failed: true })).toBe("error");
    expect(callStatus({ httpStatus: 200, grpcStatus: undefined, failed: false })).toBe("UNKNOWN");
  });

  it("parseGrpcStatus: a decimal code, else UNKNOWN (2)", () => {
    expect(parseGrpcStatus(" 14 ")).toBe(14);
    expect(parseGrpcStatus("")).toBe(2);
  });
});
