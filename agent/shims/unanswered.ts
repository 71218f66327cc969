/**
 * The bytes one side of a session sent since the other side last answered (onMove: resend): for
 * a request/response protocol whose client waits for each reply, the request the service has not
 * answered yet. They are what is sent again over a new connection when the service restarts or
 * moves. The chunks are the ones the session already holds (no copy); past `capacity` bytes the
 * request is too large to keep and cannot be sent again (`overflowed`).
 */
export class Unanswered {
  private chunks: Buffer[] = [];
  private size = 0;
  private over = false;

  constructor(readonly capacity: number) {}

  /** One side sent these bytes. */
  sent(chunk: Buffer): void {
    if (this.over || chunk.length === 0) return;
    this.size += chunk.length;
    if (this.size > this.capacity) {
      this.over = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
  }

  /** The other side answered: what was sent so far is answered. */
  answered(): void {
    this.chunks = [];
    this.size = 0;
    this.over = false;
  }

  /** What was sent since the last answer: null when it was more than `capacity` bytes (not kept). */
  get pending(): readonly Buffer[] | null {
    return this.over ? null : this.chunks;
  }

  get bytes(): number {
    return this.size;
  }
}
