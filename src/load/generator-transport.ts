// What the open generator's thread sends with, chosen once per load: HTTP/1.1 (http-transport.ts)
// or gRPC over HTTP/2 (grpc-transport.ts). The scheduler (open-loop.ts) sees only send and abort.
import type { OpenTransport, SettledStatus } from "./open-loop.js";

export interface GeneratorTransport extends OpenTransport {
  /** Before the start: opens connections and sends unrecorded requests, so the first scheduled ones find them open and the send path compiled. */
  warmUp(): Promise<void>;
  /** Connections (HTTP/2 sessions) opened so far, the warm-up's included. */
  readonly opened: number;
  /** Closes every connection, in flight or idle. */
  close(): void;
}

/** Called once per sent request with its outcome (never for an aborted one). */
export type Settle = (seq: number, status: SettledStatus) => void;

/** What a transport needs of the generator's settings. */
export interface TransportSettings {
  url: string;
  timeoutMs: number;
  requestIdPrefix: string;
  warmUp: { path: string; concurrency: number; rounds: number };
}
