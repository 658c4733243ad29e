import { describe, expect, it } from "vitest";
import { parseHaproxyLogLine } from "./log.js";

// Lines captured from HAProxy 2.6.12 running configs from render.ts (see the integration tests).
const LINES = {
  outboundRedispatched:
    '{"mq":1,"pod":"checkout-1","ts":"1795239553.565","dir":"outbound","route":"payments","host":"payments","from":"checkout","from_replica":"1","srv":"r2","status":200,"Ta":6,"Tw":5,"Tc":0,"Tr":1,"retries":"+2","term":"----","bytes":116,"fault":"-"}',
  outboundFirstTry:
    '{"mq":1,"pod":"checkout-1","ts":"1795239553.609","dir":"outbound","route":"payments","host":"payments","from":"checkout","from_replica":"1","srv":"r2","status":200,"Ta":0,"Tw":0,"Tc":0,"Tr":0,"retries":"0","term":"----","bytes":116,"fault":"-"}',
  outboundNoServer:
    '{"mq":1,"pod":"checkout-0","ts":"1795239542.465","dir":"outbound","route":"payments","host":"payments","from":"checkout","from_replica":"0","srv":"<NOSRV>","status":503,"Ta":0,"Tw":-1,"Tc":-1,"Tr":-1,"retries":"0","term":"SC--","bytes":217,"fault":"-"}',
  outboundNoRoute:
    '{"mq":1,"pod":"checkout-0","ts":"1795239542.472","dir":"outbound","route":"mq_no_route","host":"nope","from":"checkout","from_replica":"0","srv":"<NOSRV>","status":421,"Ta":0,"Tw":-1,"Tc":-1,"Tr":-1,"retries":"0","term":"LR--","bytes":179,"fault":"-"}',
  inboundAborted:
    '{"mq":1,"pod":"checkout-0","ts":"1795239541.936","dir":"inbound","route":"checkout","from":"-","from_replica":"-","srv":"<NOSRV>","status":503,"Ta":0,"Tw":-1,"Tc":-1,"Tr":-1,"retries":"0","term":"LR--","bytes":120,"fault":"ab"}',
  inboundDelayed:
    '{"mq":1,"pod":"checkout-0","ts":"1795239542.256","dir":"inbound","route":"checkout","from":"-","from_replica":"-","srv":"app","status":200,"Ta":202,"Tw":0,"Tc":0,"Tr":1,"retries":"0","term":"----","bytes":147,"fault":"d"}',
  inboundDelayedThenAborted:
    '{"mq":1,"pod":"checkout-1","ts":"1795239559.864","dir":"inbound","route":"checkout","from":"frontend","from_replica":"0","srv":"<NOSRV>","status":503,"Ta":31,"Tw":-1,"Tc":-1,"Tr":-1,"retries":"0","term":"LR--","bytes":120,"fault":"slow,ab"}',
  inboundEscapedCaller:
    '{"mq":1,"pod":"checkout-1","ts":"1795239559.903","dir":"inbound","route":"checkout","from":"fr\\"ont\\\\end","from_replica":"-","srv":"app","status":200,"Ta":1,"Tw":0,"Tc":0,"Tr":1,"retries":"0","term":"----","bytes":156,"fault":"-"}',
};

describe("parseHaproxyLogLine", () => {
  it("reads an outbound request that was retried and redispatched", () => {
    expect(parseHaproxyLogLine(LINES.outboundRedispatched)).toEqual({
      ts: 1795239553565,
      pod: "checkout-1",
      direction: "outbound",
      route: "payments",
      from: "checkout",
      fromReplica: 1,
      upstream: "payments-2",
      status: 200,
      durationMs: 6,
      retries: 2,
      termination: "----",
      fault: null,
      faults: [],
    });
    expect(parseHaproxyLogLine(LINES.outboundFirstTry)).toMatchObject({ retries: 0, upstream: "payments-2", ts: 1795239553609 });
  });

  it("has no upstream when no server was reached", () => {
    expect(parseHaproxyLogLine(LINES.outboundNoServer)).toMatchObject({ upstream: null, status: 503, termination: "SC--" });
  });

  it("names the requested host as the route of a request with no route", () => {
    expect(parseHaproxyLogLine(LINES.outboundNoRoute)).toMatchObject({ route: "nope", status: 421, upstream: null, termination: "LR--" });
  });

  it("reads inbound requests answered or delayed by a fault", () => {
    expect(parseHaproxyLogLine(LINES.inboundAborted)).toEqual({
      ts: 1795239541936,
      pod: "checkout-0",
      direction: "inbound",
      route: "checkout",
      from: null,
      fromReplica: null,
      upstream: null,
      status: 503,
      durationMs: 0,
      retries: 0,
      termination: "LR--",
      fault: "ab",
      faults: ["ab"],
    });
    expect(parseHaproxyLogLine(LINES.inboundDelayed)).toMatchObject({ fault: "d", durationMs: 202, status: 200 });
    expect(parseHaproxyLogLine(LINES.inboundDelayedThenAborted)).toMatchObject({
      from: "frontend",
      fromReplica: 0,
      fault: "ab",
      faults: ["slow", "ab"],
      durationMs: 31,
    });
  });

  it("keeps request-derived text intact through HAProxy's json converter", () => {
    expect(parseHaproxyLogLine(LINES.inboundEscapedCaller)?.from).toBe('fr"ont\\end');
  });

  it("returns null for HAProxy's own lines and anything else", () => {
    for (const line of [
      "",
      "[NOTICE]   (870) : New worker (873) forked",
      // HAProxy's own stdout lines, captured when a replica was removed and recreated.
      "Server ledger/r0 is going DOWN for maintenance (DNS NX status). 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
      "ledger/r0 changed its IP from (none) to 172.20.0.5 by mq_docker/docker.",
      "Server ledger/r0 ('ledger-0') is UP/READY (resolves again).",
      "Server ledger/r0 administratively READY thanks to valid DNS answer.",
      '{"mq":2,"dir":"inbound"}',
      '{"some":"other json"}',
      "{not json",
      LINES.inboundAborted.replace('"ts":"1795239541.936"', '"ts":"yesterday"'),
    ]) {
      expect(parseHaproxyLogLine(line), line).toBeNull();
    }
  });
});
