// The open-loop generator's decisions, apart from any I/O: which request is due, whether it can
// be sent or is `notSent` (the in-flight cap is reached), when one has timed out, and when the
// load is over. The worker (open-worker.ts) calls `pump` whenever it wakes and `settle` when an
// answer arrives; a test drives it with a fake clock and transport.
//
// A request is due at its scheduled time whatever happened to earlier ones: nothing here waits
// for an answer before sending. Its latency is measured from that scheduled time, so a stall
// shows in every request scheduled during it (no coordinated omission). The lag between the
// scheduled and the actual send time is the generator's own delay, reported apart.
import type { ArrivalSchedule } from "./arrivals.js";
import type { ClientStatus } from "../observe/client-recorder.js";

/** An HTTP status, a gRPC status name, a transport failure, or a request that was never sent. */
export type OpenStatus = ClientStatus;

/** What a transport settles a request with: its answer's status or a failure (timeouts and notSent are the loop's). */
export type SettledStatus = Exclude<OpenStatus, "timeout" | "notSent">;

/** One request's fate. Times are ms from the start of load. */
export interface OpenSample {
  seq: number;
  /** When it was due. */
  intendedMs: number;
  /** When it was handed to the connection; null when it was not sent. */
  sentMs: number | null;
  /** When it settled (answer, failure, timeout), or its due time when not sent. */
  doneMs: number;
  status: OpenStatus;
  /** Index into the load's request templates. */
  template: number;
}

export interface OpenTransport {
  /** Sends request `seq` built from template `template`; the answer comes back through `settle`. */
  send(seq: number, template: number): void;
  /** Gives up on request `seq` (it timed out): no `settle` is expected for it any more. */
  abort(seq: number): void;
}

export interface OpenLoopOptions {
  schedule: ArrivalSchedule;
  /** Requests due at or after this are not recorded (they keep the load going while the last ones finish). */
  durationMs: number;
  maxInFlight: number;
  timeoutMs: number;
  /** Template of each request, in order (the request mix). */
  nextTemplate: () => number;
  transport: OpenTransport;
  /** ms from the start of load (the worker's monotonic clock; a test's fake one). */
  now: () => number;
  /** Every recorded request, once settled. */
  onSample: (sample: OpenSample) => void;
}

interface InFlight {
  seq: number;
  intendedMs: number;
  sentMs: number;
  template: number;
  deadlineMs: number;
  recorded: boolean;
}

export class OpenLoop {
  readonly #o: OpenLoopOptions;
  readonly #inFlight = new Map<number, InFlight>();
  /** In-flight requests by deadline (every request has the same timeout, so send order is deadline order). */
  readonly #deadlines: InFlight[] = [];
  #deadlineHead = 0;
  /** Recorded requests still in flight. */
  #recordedInFlight = 0;
  #sent = 0;
  #notSent = 0;
  #stopped = false;

  constructor(options: OpenLoopOptions) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be a positive integer, got ${options.maxInFlight}`);
    }
    this.#o = options;
  }

  /** Sends (or counts as not sent) every request due by now, and times out those past their deadline. */
  pump(): void {
    if (this.#stopped) return;
    const { schedule, now } = this.#o;
    this.#expire(now());
    // The clock is read again after each send: a request that fell due meanwhile goes too.
    for (let due = schedule.peek(); due <= now(); due = schedule.peek()) {
      // Past the duration only while recorded requests are still out: load, not measurement.
      const recorded = due < this.#o.durationMs;
      if (!recorded && this.#recordedInFlight === 0) break;
      const seq = schedule.taken;
      schedule.take();
      const template = this.#o.nextTemplate();
      if (this.#inFlight.size >= this.#o.maxInFlight) {
        if (recorded) {
          this.#notSent++;
          this.#o.onSample({ seq, intendedMs: due, sentMs: null, doneMs: due, status: "notSent", template });
        }
        continue;
      }
      const entry: InFlight = { seq, intendedMs: due, sentMs: now(), template, deadlineMs: due + this.#o.timeoutMs, recorded };
      this.#inFlight.set(seq, entry);
      this.#deadlines.push(entry);
      if (recorded) {
        this.#recordedInFlight++;
        this.#sent++;
      }
      this.#o.transport.send(seq, template);
    }
  }

  /** An answer (or a transport failure) for request `seq`. Unknown or already settled requests are ignored. */
  settle(seq: number, status: SettledStatus): void {
    const entry = this.#inFlight.get(seq);
    if (!entry) return;
    this.#finish(entry, status, this.#o.now());
  }

  /** The next moment `pump` has something to do: a request due or a deadline; null when the load is over. */
  nextWakeMs(): number | null {
    if (this.done) return null;
    const due = this.#o.schedule.peek();
    const nextDue = due < this.#o.durationMs || this.#recordedInFlight > 0 ? due : Number.POSITIVE_INFINITY;
    const head = this.#oldest();
    const wake = Math.min(nextDue, head === null ? Number.POSITIVE_INFINITY : head.deadlineMs);
    return Number.isFinite(wake) ? wake : null;
  }

  /** Every recorded request has been scheduled and has settled (or the load was stopped). */
  get done(): boolean {
    return this.#stopped || (this.#o.schedule.peek() >= this.#o.durationMs && this.#recordedInFlight === 0);
  }

  /** Stops at once (an abort): nothing more is sent, and requests still out are left unrecorded. */
  stop(): void {
    this.#stopped = true;
  }

  get counts(): { sent: number; notSent: number; inFlight: number; recordedInFlight: number } {
    return { sent: this.#sent, notSent: this.#notSent, inFlight: this.#inFlight.size, recordedInFlight: this.#recordedInFlight };
  }

  #expire(nowMs: number): void {
    for (let head = this.#oldest(); head !== null && head.deadlineMs <= nowMs; head = this.#oldest()) {
      this.#o.transport.abort(head.seq);
      this.#finish(head, "timeout", nowMs);
    }
  }

  /** The in-flight request with the earliest deadline, dropping settled ones off the front. */
  #oldest(): InFlight | null {
    while (this.#deadlineHead < this.#deadlines.length) {
      const head = this.#deadlines[this.#deadlineHead]!;
      if (this.#inFlight.get(head.seq) === head) return head;
      this.#deadlineHead++;
    }
    // Everything settled: reuse the array from the start.
    this.#deadlines.length = 0;
    this.#deadlineHead = 0;
    return null;
  }

  #finish(entry: InFlight, status: OpenStatus, nowMs: number): void {
    this.#inFlight.delete(entry.seq);
    if (this.#deadlineHead > 1024 && this.#deadlineHead * 2 > this.#deadlines.length) {
      this.#deadlines.splice(0, this.#deadlineHead);
      this.#deadlineHead = 0;
    }
    if (!entry.recorded) return;
    this.#recordedInFlight--;
    this.#o.onSample({
      seq: entry.seq,
      intendedMs: entry.intendedMs,
      sentMs: entry.sentMs,
      doneMs: nowMs,
      status,
      template: entry.template,
    });
  }
}
