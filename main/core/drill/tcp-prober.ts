import net from 'node:net';
import type { ProbeSample } from './drill-measure.js';

/** The most probes in flight at once (each ends by its timeout at the latest). */
const MAX_IN_FLIGHT = 64;

/**
 * Probes a TCP address at a fixed rate for as long as it runs: each probe is a connect that must
 * succeed within the timeout; a new one starts every `everyMs` whether or not the last has ended,
 * so a probe stuck on a dead path does not slow the others. Samples are kept by start time.
 */
export class TcpProber {
  readonly samples: ProbeSample[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private inFlight = 0;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly host: string,
    readonly port: number,
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
    const socket = net.connect({ host: this.host, port: this.port });
    this.sockets.add(socket);
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      sample.ok = ok;
      this.inFlight -= 1;
      clearTimeout(timer);
      this.sockets.delete(socket);
      socket.destroy();
    };
    const timer = setTimeout(() => settle(false), this.timeoutMs);
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
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
