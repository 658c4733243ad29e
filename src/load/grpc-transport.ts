// The open generator's gRPC transport: every call one stream on a pool of HTTP/2 sessions
// (session-pool.ts), with node:http2 directly rather than @grpc/grpc-js, so the scheduler owns
// every decision (when, whether, the deadline) and a call costs a raw stream, not a client
// library's machinery. The message is encoded and framed once (grpc-proto.ts); each call sends
// the same bytes with its own x-request-id. No grpc-timeout header: the deadline is the
// generator's (its timeout, from the due time), enforced by cancelling the stream, and a server
// deadline would only race it.
import { connect as netConnect } from "node:net";
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import type { GeneratorTransport, Settle, TransportSettings } from "./generator-transport.js";
import { callStatus } from "./grpc-frame.js";
import type { EncodedCall } from "./grpc-proto.js";
import { requestId } from "./open-wire.js";
import { REQUEST_ID_HEADER } from "./request-id.js";
import { SessionPool, streamLimit, type PooledSession } from "./session-pool.js";

interface Session extends PooledSession {
  h2: ClientHttp2Session;
}

export interface GrpcTransportSettings extends TransportSettings {
  call: EncodedCall;
  /** Request metadata (lowercase names), sent with every call. */
  metadata: Record<string, string>;
}

/** Flow-control window per stream and per session: a streaming answer is read without waiting for WINDOW_UPDATEs. */
const WINDOW_BYTES = 1 << 20;

export function grpcTransport(settings: GrpcTransportSettings, settle: Settle): GeneratorTransport {
  const target = new URL(settings.url);
  const origin = target.origin;
  const frame = settings.call.frame;
  const base: OutgoingHttpHeaders = {
    ...settings.metadata,
    [constants.HTTP2_HEADER_METHOD]: "POST",
    [constants.HTTP2_HEADER_PATH]: settings.call.path,
    [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
    [constants.HTTP2_HEADER_TE]: "trailers",
  };
  const calls = new Map<number, Call>();
  const all = new Set<Session>();

  const pool = new SessionPool<Session>(() => {
    const h2 = connect(origin, {
      settings: { initialWindowSize: WINDOW_BYTES },
      peerMaxConcurrentStreams: streamLimit(undefined),
      // No Nagle (node:http2's own socket keeps it on): a call's small frames must not wait for a delayed ACK.
      createConnection: () => netConnect({ host: target.hostname, port: Number(target.port), noDelay: true }),
    });
    const session: Session = { h2, inFlight: 0, limit: streamLimit(undefined) };
    all.add(session);
    h2.on("connect", () => h2.setLocalWindowSize(WINDOW_BYTES));
    h2.on("remoteSettings", (s) => (session.limit = streamLimit(s.maxConcurrentStreams)));
    // A failed or closing session takes no new call; those on it end as their streams do.
    const leave = (): void => pool.drop(session);
    h2.on("error", leave);
    h2.on("goaway", leave);
    h2.on("close", () => {
      leave();
      all.delete(session);
    });
    h2.unref();
    return session;
  });

  /** Starts one call; `done` gets its status once (never after `cancel`). */
  const start = (id: string, done: (status: ReturnType<typeof callStatus>) => void): Call => {
    const session = pool.acquire();
    const call = new Call(session, done);
    let stream: ClientHttp2Stream;
    try {
      stream = session.h2.request({ ...base, [REQUEST_ID_HEADER]: id });
    } catch {
      // The session went away between its last event and this call: fail the call, not the generator.
      pool.drop(session);
      queueMicrotask(() => call.end(true));
      return call;
    }
    call.attach(stream);
    stream.end(frame);
    return call;
  };

  return {
    get opened() {
      return pool.opened;
    },

    async warmUp() {
      let warmed = 0;
      for (let round = 0; round < settings.warmUp.rounds; round++) {
        await Promise.all(
          Array.from(
            { length: settings.warmUp.concurrency },
            () =>
              new Promise<void>((resolve) => {
                const call = start(`${settings.requestIdPrefix}-warm-${(warmed++).toString(36)}`, () => {
                  clearTimeout(deadline);
                  resolve();
                });
                const deadline = setTimeout(() => {
                  call.cancel();
                  resolve();
                }, settings.timeoutMs);
              }),
          ),
        );
      }
    },

    send(seq) {
      calls.set(
        seq,
        start(requestId(settings.requestIdPrefix, seq), (status) => {
          calls.delete(seq);
          settle(seq, status);
        }),
      );
    },

    abort(seq) {
      const call = calls.get(seq);
      if (!call) return;
      calls.delete(seq);
      call.cancel();
    },

    close() {
      for (const s of all) s.h2.destroy();
    },
  };
}

/** One call's stream: its status once known, the session's count of streams in flight kept. */
class Call {
  #stream: ClientHttp2Stream | null = null;
  #httpStatus: number | null = null;
  #grpcStatus: string | undefined = undefined;
  #settled = false;

  constructor(
    readonly session: Session,
    private readonly done: (status: ReturnType<typeof callStatus>) => void,
  ) {
    session.inFlight++;
  }

  attach(stream: ClientHttp2Stream): void {
    this.#stream = stream;
    stream.on("response", (headers: IncomingHttpHeaders) => {
      this.#httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
      const status = headers["grpc-status"];
      // Trailers-only: the status comes with the headers and ends the call.
      if (typeof status === "string") this.#status(status);
    });
    stream.on("trailers", (trailers: IncomingHttpHeaders) => {
      const status = trailers["grpc-status"];
      if (typeof status === "string") this.#status(status);
    });
    // The answer's messages are read and dropped: a server-streaming call ends at its trailers.
    stream.resume();
    stream.on("error", () => {});
    stream.on("close", () => this.end(stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR));
  }

  #status(value: string): void {
    this.#grpcStatus = value;
    this.#settle(false);
  }

  /** The stream closed (or never opened): its slot is free, and the call settles if it has not. */
  end(failed: boolean): void {
    this.#settle(failed);
    this.session.inFlight--;
  }

  /** The deadline passed: RST_STREAM CANCEL, and no status for it. */
  cancel(): void {
    this.#settled = true;
    this.#stream?.close(constants.NGHTTP2_CANCEL);
  }

  #settle(failed: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.done(callStatus({ httpStatus: this.#httpStatus, grpcStatus: this.#grpcStatus, failed }));
  }
}
