// The open generator's HTTP/1.1 transport, with undici: one `Client` (one keep-alive connection,
// one request at a time) per request in flight, taken from a stack of idle ones and opened only
// when none is idle, so the connections in use follow the load and never exceed maxInFlight.
// undici is Node's own HTTP/1.1 client (it is what `fetch` runs on), parses with llhttp, and its
// dispatch API costs a few microseconds a request: it lets the scheduler own every decision
// (when, whether, timeouts) and still speak HTTP correctly (keep-alive, `Connection: close`,
// chunked bodies).
import { Client, type Dispatcher } from "undici";
import type { GeneratorTransport, Settle, TransportSettings } from "./generator-transport.js";
import { requestId, type WireTemplate } from "./open-wire.js";
import { REQUEST_ID_HEADER } from "./request-id.js";

export function httpTransport(settings: TransportSettings & { templates: readonly WireTemplate[] }, settle: Settle): GeneratorTransport {
  const origin = new URL(settings.url).origin;
  const idle: Client[] = [];
  const pending = new Map<number, Pending>();
  let opened = 0;
  const acquire = (): Client => {
    const client = idle.pop();
    if (client) return client;
    opened++;
    // Timeouts are the scheduler's (measured from each request's due time): undici's are off.
    return new Client(origin, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0, connectTimeout: settings.timeoutMs, keepAliveTimeout: 60_000 });
  };
  const release = (client: Client): void => void idle.push(client);
  const templates = settings.templates.map((t) => ({ ...t, body: t.body ?? undefined }));

  return {
    get opened() {
      return opened;
    },

    async warmUp() {
      let warmed = 0;
      for (let round = 0; round < settings.warmUp.rounds; round++) {
        await Promise.all(
          Array.from({ length: settings.warmUp.concurrency }, () => {
            const client = acquire();
            return new Promise<void>((resolve) => {
              const id = `${settings.requestIdPrefix}-warm-${(warmed++).toString(36)}`;
              const done = (): void => {
                clearTimeout(deadline);
                release(client);
                resolve();
              };
              const request = new Pending(0, client, done);
              const deadline = setTimeout(() => {
                request.abort();
                done();
              }, settings.timeoutMs);
              client.dispatch({ method: "GET", path: settings.warmUp.path, headers: [REQUEST_ID_HEADER, id] }, request);
            });
          }),
        );
      }
    },

    send(seq, template) {
      const t = templates[template]!;
      const client = acquire();
      const request = new Pending(seq, client, (s, status) => {
        pending.delete(s);
        release(client);
        settle(s, status);
      });
      pending.set(seq, request);
      client.dispatch(
        {
          method: t.method as Dispatcher.HttpMethod,
          path: t.path,
          headers: [...t.headers, REQUEST_ID_HEADER, requestId(settings.requestIdPrefix, seq)],
          body: t.body,
        },
        request,
      );
    },

    abort(seq) {
      const request = pending.get(seq);
      if (!request) return;
      pending.delete(seq);
      request.abort();
      // The aborted connection closes; undici reopens it for its next request.
      release(request.client);
    },

    close() {
      for (const client of new Set([...idle, ...[...pending.values()].map((p) => p.client)])) void client.destroy().catch(() => {});
    },
  };
}

/** One request in flight: undici's handler, settling once with the status or a failure. */
class Pending implements Dispatcher.DispatchHandler {
  #status = 0;
  #controller: Dispatcher.DispatchController | null = null;
  #settled = false;

  constructor(
    readonly seq: number,
    readonly client: Client,
    private readonly onSettle: (seq: number, status: number | "error") => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.#settle(this.#status);
  }

  onResponseError(): void {
    this.#settle("error");
  }

  abort(): void {
    this.#settled = true;
    this.#controller?.abort(new Error("meshquake: request timed out"));
  }

  #settle(status: number | "error"): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettle(this.seq, status);
  }
}
