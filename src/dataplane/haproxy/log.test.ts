import { describe, expect, it } from "vitest";
import { parseHaproxyEventLine, parseHaproxyLogLine, terminationCause, type CauseInput } from "./log.js";

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

// Lines captured from HAProxy 2.6.12 running render.ts's configs with policy.lua: local runs
// against Node replicas, and in Docker (test/integration/policy-conformance.test.ts's topology).
const POLICY_LINES = {
  outboundRetriedOk:
    '{"mq":1,"pod":"checkout-0","ts":"1795240856.045","t0":"1795240856046","dir":"outbound","route":"payments","host":"payments","from":"checkout","from_replica":"0","srv":"r2","status":200,"Ta":1,"Tw":1,"Tc":0,"Tr":0,"retries":"+1","term":"----","bytes":108,"fault":"-","id":"checkout-0.6","max":"2","cause":"-","local":"-","budget":"-"}',
  outboundOverallTimeout:
    '{"mq":1,"pod":"checkout-0","ts":"1795240916.507","t0":"1795240916510","dir":"outbound","route":"payments","host":"payments","from":"checkout","from_replica":"0","srv":"r0","status":504,"Ta":502,"Tw":302,"Tc":0,"Tr":200,"retries":"+1","term":"----","bytes":152,"fault":"-","id":"checkout-0.0","max":"3","cause":"-","local":"overall-timeout","budget":"-"}',
  outboundResetNotRetried:
    '{"mq":1,"pod":"checkout-0","ts":"1795240859.482","t0":"1795240859483","dir":"outbound","route":"payments","host":"payments","from":"checkout","from_replica":"0","srv":"r0","status":502,"Ta":0,"Tw":0,"Tc":0,"Tr":0,"retries":"0","term":"----","bytes":164,"fault":"-","id":"checkout-0.6","max":"2","cause":"-","local":"reset","budget":"-"}',
  outboundOverflow:
    '{"mq":1,"pod":"checkout-0","ts":"1795241703.387","t0":"1795241703389","dir":"outbound","route":"payments","host":"payments","from":"checkout","from_replica":"0","srv":"<NOSRV>","status":503,"Ta":0,"Tw":-1,"Tc":-1,"Tr":-1,"retries":"0","term":"LR--","bytes":160,"fault":"-","id":"checkout-0.3","max":"1","cause":"overflow","local":"-","budget":"-"}',
  attemptPerTryTimeout:
    '{"mq":1,"pod":"checkout-0","ts":"1795240789.859","t0":"1795240792761","dir":"attempt","route":"payments","replica":1,"id":"checkout-0.2464","srv":"r1","status":425,"Ta":302,"Tr":-1,"term":"sH--","local":"per-try-timeout","fault":"-"}',
  attemptOverallTimeout:
    '{"mq":1,"pod":"checkout-0","ts":"1795241706.589","t0":"1795241706589","dir":"attempt","route":"payments","replica":0,"id":"checkout-0.0","srv":"r0","status":599,"Ta":199,"Tr":-1,"term":"sH--","local":"overall-timeout","fault":"-"}',
  // Constructed (rare in a run): the request's timeout had passed before this try could start.
  attemptUnsent:
    '{"mq":1,"pod":"checkout-0","ts":"1795240917.317","t0":"1795240917317","dir":"attempt","route":"payments","replica":0,"id":"checkout-0.9","srv":"<NOSRV>","status":599,"Ta":0,"Tr":-1,"term":"LR--","local":"overall-timeout","fault":"-"}',
  // Captured in Docker: payments-0's inbound sidecar aborted the try (fault pay-abort), and the
  // same try as the callee logged it, with the caller's request id.
  attemptFault:
    '{"mq":1,"pod":"frontend-0","ts":"1795241724.688","t0":"1795241724688","dir":"attempt","route":"payments","replica":0,"id":"frontend-0.16","srv":"r0","status":503,"Ta":0,"Tr":0,"term":"----","local":"-","fault":"pay-abort"}',
  inboundFaultedTry:
    '{"mq":1,"pod":"payments-0","ts":"1795241724.688","t0":"1795241724688","dir":"inbound","route":"payments","from":"frontend","from_replica":"0","srv":"<NOSRV>","status":503,"Ta":0,"Tw":-1,"Tc":-1,"Tr":-1,"retries":"0","term":"LR--","bytes":134,"fault":"pay-abort","req":"frontend-0.16","check":"-"}',
  ejection: '{"mq":1,"pod":"checkout-0","ts":"1795240733.432","ev":"ejection","route":"payments","replica":0,"until":"1795240734.432","count":1}',
  readmission: '{"mq":1,"pod":"checkout-0","ts":"1795240734.846","ev":"readmission","route":"payments","replica":0}',
  skipped: '{"mq":1,"pod":"checkout-0","ts":"1795240741.343","ev":"ejection-skipped","route":"payments","replica":0,"reason":"max-ejection-percent"}',
  healthDown: '{"mq":1,"pod":"checkout-0","ts":"1795240945.870","ev":"health","route":"payments","replica":1,"state":"down","check":"L7STS"}',
};

describe("policy observations", () => {
  it("reads the request id, the allowed tries and why an outbound request ended", () => {
    expect(parseHaproxyLogLine(POLICY_LINES.outboundRetriedOk)).toMatchObject({
      ts: 1795240856046,
      requestId: "checkout-0.6",
      maxAttempts: 2,
      retries: 1,
      upstream: "payments-2",
      budgetDenied: false,
      cause: "ok",
    });
    expect(parseHaproxyLogLine(POLICY_LINES.outboundOverallTimeout)).toMatchObject({ status: 504, cause: "overall-timeout" });
    expect(parseHaproxyLogLine(POLICY_LINES.outboundResetNotRetried)).toMatchObject({ status: 502, cause: "reset" });
    expect(parseHaproxyLogLine(POLICY_LINES.outboundOverflow)).toMatchObject({ status: 503, upstream: null, cause: "overflow" });
    // Older lines have none of these.
    expect(parseHaproxyLogLine(LINES.outboundFirstTry)).not.toHaveProperty("cause");
  });

  it("reads each try, with the status a local failure stands for", () => {
    expect(parseHaproxyEventLine(POLICY_LINES.attemptPerTryTimeout)).toEqual({
      kind: "attempt",
      // t0, not the kept-alive connection's stream start.
      ts: 1795240792761,
      pod: "checkout-0",
      route: "payments",
      replica: 1,
      requestId: "checkout-0.2464",
      status: 504,
      durationMs: 302,
      outcome: "per-try-timeout",
      fault: null,
      termination: "sH--",
    });
    expect(parseHaproxyEventLine(POLICY_LINES.attemptOverallTimeout)).toMatchObject({ outcome: "overall-timeout", status: 504, durationMs: 199 });
    expect(parseHaproxyEventLine(POLICY_LINES.attemptUnsent)).toMatchObject({ outcome: "not-sent", status: 504 });
    expect(parseHaproxyEventLine(POLICY_LINES.attemptFault)).toMatchObject({ outcome: "injected-fault", fault: "pay-abort", status: 503 });
    // Request lines are not events, and events are not requests.
    expect(parseHaproxyEventLine(POLICY_LINES.outboundRetriedOk)).toBeNull();
    expect(parseHaproxyLogLine(POLICY_LINES.attemptFault)).toBeNull();
    // The callee's side of the same try: joined to the caller's request by its id.
    expect(parseHaproxyLogLine(POLICY_LINES.inboundFaultedTry)).toMatchObject({
      direction: "inbound",
      requestId: "frontend-0.16",
      healthCheck: false,
      fault: "pay-abort",
    });
  });

  it("reads a 429's Retry-After, the 429 handed back for a retry, and the retry's wait", () => {
    const line = (over: string) =>
      `{"mq":1,"pod":"frontend-0","ts":"1796664626.468","t0":"1796664626468","dir":"attempt","route":"api","replica":1,"id":"frontend-0.12",` +
      `"srv":"r1",${over},"term":"----","local":"-","fault":"-"}`;
    // Handed back to the routing backend as 425 to be retried: it stands for the 429 it was.
    expect(parseHaproxyEventLine(line(`"status":425,"Ta":1,"Tr":0,"ra":"1","rar":"1","raat":"1796664626469","wait":"-"`))).toMatchObject({
      status: 429,
      retryAfterMs: 1000,
      answeredAt: 1796664626469,
      outcome: "ok",
    });
    expect(parseHaproxyEventLine(line(`"status":200,"Ta":1003,"Tr":2,"ra":"-","rar":"-","wait":"999"`))).toMatchObject({ status: 200, waitedMs: 999 });
    // A 429 that was not retried, its Retry-After an HTTP-date: no usable wait.
    const dated = parseHaproxyEventLine(line(`"status":429,"Ta":1,"Tr":0,"ra":"Wed, 21 Oct 2026 07:28:00 GMT","rar":"-","wait":"-"`));
    expect(dated).toMatchObject({ status: 429, retryAfterMs: null });
    expect(dated).not.toHaveProperty("waitedMs");
    // Older lines have none of these fields.
    expect(parseHaproxyEventLine(line(`"status":200,"Ta":1,"Tr":0`))).not.toHaveProperty("retryAfterMs");
  });

  it("marks an inbound request the local rate limit answered", () => {
    const limited = POLICY_LINES.inboundFaultedTry.replace('"check":"-"', '"check":"-","rl":"limited"').replace('"fault":"pay-abort"', '"fault":"-"');
    expect(parseHaproxyLogLine(limited)).toMatchObject({ direction: "inbound", rateLimited: true });
    expect(parseHaproxyLogLine(POLICY_LINES.inboundFaultedTry.replace('"check":"-"', '"check":"-","rl":"-"'))).toMatchObject({ rateLimited: false });
    expect(parseHaproxyLogLine(POLICY_LINES.inboundFaultedTry)).not.toHaveProperty("rateLimited");
  });

  it("reads how an inbound request came: over TLS with the caller's verified identity, or refused as mesh plaintext", () => {
    const base = POLICY_LINES.inboundFaultedTry;
    const withTls = (fields: string) => base.replace('"check":"-"', `"check":"-",${fields}`);
    expect(parseHaproxyLogLine(withTls('"tls":"1","peer":"checkout","plain":"-"'))).toMatchObject({ tls: true, peer: "checkout", plaintextRefused: false });
    expect(parseHaproxyLogLine(withTls('"tls":"0","peer":"-","plain":"refused"'))).toMatchObject({ tls: false, peer: null, plaintextRefused: true });
    // A peer name is only an identity over TLS.
    expect(parseHaproxyLogLine(withTls('"tls":"0","peer":"checkout","plain":"-"'))).toMatchObject({ tls: false, peer: null });
    for (const field of ["tls", "peer", "plaintextRefused"]) expect(parseHaproxyLogLine(base)).not.toHaveProperty(field);
  });

  it("reads the client's x-request-id on both frontends (absent in older lines)", () => {
    const inbound = POLICY_LINES.inboundFaultedTry.replace('"check":"-"}', '"check":"-","xid":"aB3-1f"}');
    expect(parseHaproxyLogLine(inbound)).toMatchObject({ direction: "inbound", traceId: "aB3-1f" });
    const outbound = POLICY_LINES.outboundRetriedOk.replace(/}$/, ',"xid":"-"}');
    expect(parseHaproxyLogLine(outbound)).toMatchObject({ direction: "outbound", traceId: null });
    expect(parseHaproxyLogLine(POLICY_LINES.inboundFaultedTry)).not.toHaveProperty("traceId");
  });

  it("reads ejections, re-admissions and health changes", () => {
    expect(parseHaproxyEventLine(POLICY_LINES.ejection)).toEqual({
      kind: "ejection",
      ts: 1795240733432,
      pod: "checkout-0",
      route: "payments",
      replica: 0,
      untilTs: 1795240734432,
      count: 1,
    });
    expect(parseHaproxyEventLine(POLICY_LINES.readmission)).toMatchObject({ kind: "readmission", ts: 1795240734846 });
    expect(parseHaproxyEventLine(POLICY_LINES.skipped)).toMatchObject({ kind: "ejection-skipped", reason: "max-ejection-percent" });
    expect(parseHaproxyEventLine(POLICY_LINES.healthDown)).toMatchObject({ kind: "health", healthy: false, check: "L7STS", replica: 1 });
    expect(parseHaproxyEventLine("[info] 324/055340 (16966) : " + POLICY_LINES.ejection)).toBeNull();
    expect(parseHaproxyEventLine(POLICY_LINES.ejection.replace('"count":1', '"count":"x"'))).toBeNull();
  });

  it("names the termination cause, most specific first", () => {
    const base: CauseInput = {
      status: 200,
      termination: "----",
      noServer: false,
      noRoute: false,
      overflow: false,
      local: null,
      fault: null,
      retries: 0,
      maxAttempts: 3,
      budgetDenied: false,
    };
    const cause = (over: Partial<CauseInput>) => terminationCause({ ...base, ...over });
    expect(cause({})).toBe("ok");
    expect(cause({ status: 404 })).toBe("ok");
    expect(cause({ status: 503, overflow: true, termination: "LR--", noServer: true })).toBe("overflow");
    expect(cause({ status: 421, noRoute: true, termination: "LR--" })).toBe("no-route");
    expect(cause({ status: 503, noServer: true, termination: "SC--" })).toBe("no-healthy-replica");
    expect(cause({ status: 503, noServer: true, termination: "sQ--" })).toBe("overall-timeout");
    expect(cause({ status: 504, local: "overall-timeout", retries: 1 })).toBe("overall-timeout");
    expect(cause({ status: 500, retries: 2 })).toBe("retries-exhausted");
    expect(cause({ status: 500, budgetDenied: true })).toBe("budget-exhausted");
    expect(cause({ status: 504, local: "per-try-timeout", maxAttempts: 1 })).toBe("per-try-timeout");
    expect(cause({ status: 503, local: "connect-failure", maxAttempts: 1 })).toBe("connect-failure");
    expect(cause({ status: 429, fault: "limit", maxAttempts: 1 })).toBe("injected-fault");
    expect(cause({ status: 200, fault: "slow" })).toBe("ok");
    // The callee's rate limit shed it, with or without retries on 429.
    expect(cause({ status: 429, maxAttempts: 1 })).toBe("rate-limited");
    expect(cause({ status: 429, retries: 2 })).toBe("rate-limited");
    expect(cause({ status: 500, maxAttempts: 1 })).toBe("upstream-error");
    expect(cause({ status: -1, termination: "CD--" })).toBe("caller-abort");
  });
});
