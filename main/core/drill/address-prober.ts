import http from 'node:http';
import net from 'node:net';
import { statusInRange } from '../../../common/config/probes.js';
import { awaitAnswer } from '../../../common/node/answer-matcher.js';
import type { ProbeSample } from './drill-measure.js';
import type { ProbeAddress } from './drill-target.js';

/** The most probes in flight at once (each ends by its timeout at the latest). */
const MAX_IN_FLIGHT = 64;

/**
 * Probes a service's address at a fixed rate for as long as it runs: each probe is a TCP connect
 * (or, with `http`, a GET whose status must be in range; with `expect`, a request whose answer
 * must contain the text, as the service's TCP probe) that must succeed within the timeout; a
 * new one starts every `everyMs` whether or not the last has ended, so a probe stuck on a dead path
 * does not slow the others. Samples are kept by start time.
 */
export class AddressProber {
  readonly samples: ProbeSample[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private inFlight = 0;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly address: ProbeAddress,
    readonly everyMs = 10,
    readonly timeoutMs = 250,
    private readonly maxSamples = 200_000,
  ) {}

  start(): this {
    this.timer = setInterval(() => this.probe(), this.everyMs);
    this.probe();
    return this;
  }

  private probe(): void {
    if (this.inFlight >= MAX_IN_FLIGHT || this.samples.length >= this.maxSamples) return;
    const sample: ProbeSample = { t: Date.now(), ok: false };
    this.samples.push(sample);
    this.inFlight += 1;
    let socket: net.Socket | null = null;
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      sample.ok = ok;
      this.inFlight -= 1;
      clearTimeout(timer);
      if (socket) {
        this.sockets.delete(socket);
        socket.destroy();
      }
    };
    const timer = setTimeout(() => settle(false), this.timeoutMs);
    const { host, port, http: get } = this.address;
    if (get) {
      const req = http.get({ host, port, path: get.path, agent: false, headers: { connection: 'close' } }, (res) => {
        res.resume();
        settle(statusInRange(res.statusCode ?? 0, get.status));
      });
      req.once('socket', (s: net.Socket) => {
        socket = s;
        if (settled) s.destroy();
        else this.sockets.add(s);
      });
      req.once('error', () => settle(false));
    } else {
      const s = net.connect({ host, port });
      socket = s;
      this.sockets.add(s);
      const expect = this.address.expect;
      if (!expect) s.once('connect', () => settle(true));
      else awaitAnswer(s, expect, (r) => settle(r === 'found'));
      s.once('error', () => settle(false));
    }
  }

  /** Successful and failed probes so far (those still in flight not counted). */
  counts(): { ok: number; failed: number } {
    let ok = 0;
    for (const s of this.samples) if (s.ok) ok += 1;
    return { ok, failed: this.samples.length - ok - this.inFlight };
  }

  /** Whether every probe that started in the last `ms` and has ended connected (and at least one did). */
  okFor(ms: number, now = Date.now()): boolean {
    const recent = this.samples.filter((s) => s.t >= now - ms && s.t <= now - this.timeoutMs);
    return recent.length > 0 && recent.every((s) => s.ok);
  }

  /** Stops probing and waits for the probes in flight to end. */
  async stop(): Promise<ProbeSample[]> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + this.timeoutMs + 100;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sockets) s.destroy();
    return [...this.samples];
  }
}
