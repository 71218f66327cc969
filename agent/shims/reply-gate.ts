/**
 * Resolves once every write the service made before the call is on its mirror targets (the
 * agent wires Mirrors.barrier here); rejects when that can no longer be promised.
 */
export type ReplyBarrier = () => Promise<void>;

/** The barrier of a service, as the agent gives it to the shim ends. */
export type ReplyBarrierOf = (service: string) => Promise<void>;

/**
 * The write barrier of one server-end session (shim option `waitForMirror`): what the service
 * sends goes on to the client only once the mirror confirmed every write made before it arrived.
 * Positions count the stream's bytes, and its end (FIN) as one more: `released` is how far the
 * session may send. One barrier runs at a time; what arrives while it runs may answer writes made
 * after it started, so it waits for the next one, which covers all of it at once. Server ends
 * only: their streams never start again (a reopen after a move is the client end's).
 */
export class ReplyGate {
  private releasedAt = 0;
  private seen = 0;
  private running = false;
  private stopped = false;

  constructor(
    private readonly barrier: ReplyBarrier,
    private readonly on: { released(): void; failed(e: unknown): void },
  ) {}

  /** How far the stream may go out: bytes before this position (and the FIN when it is past it). */
  get released(): number {
    return this.releasedAt;
  }

  /** True while a barrier is under way or positions wait for one. */
  get holding(): boolean {
    return this.seen > this.releasedAt;
  }

  /** The stream now reaches `position` (its end so far, +1 once the FIN came). */
  advance(position: number): void {
    if (position <= this.seen) return;
    this.seen = position;
    this.next();
  }

  /** Stops for good: a barrier under way settles into nothing. */
  stop(): void {
    this.stopped = true;
  }

  private next(): void {
    if (this.running || this.stopped || this.seen <= this.releasedAt) return;
    this.running = true;
    const upTo = this.seen;
    let p: Promise<void>;
    try {
      p = this.barrier();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      () => {
        if (this.stopped) return;
        this.running = false;
        this.releasedAt = upTo;
        this.on.released();
        this.next();
      },
      (e: unknown) => {
        if (this.stopped) return;
        this.running = false;
        this.stopped = true;
        this.on.failed(e);
      },
    );
  }
}
