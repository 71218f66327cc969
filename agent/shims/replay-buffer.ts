/**
 * What one end has sent and the other has not yet acknowledged: the bytes of the stream from
 * offset `acked` to offset `end`, kept as the chunks they came in. Acknowledgements are
 * cumulative; a replay starts at any offset in between. `full` tells the owner to stop reading
 * from its program (backpressure): the buffer never holds more than its capacity plus one chunk.
 */
export class ReplayBuffer {
  private chunks: Buffer[] = [];
  private head = 0;
  private ackedAt = 0;
  private size = 0;

  constructor(readonly capacity: number) {}

  /** Offset of the first byte not yet acknowledged. */
  get acked(): number {
    return this.ackedAt;
  }

  /** Offset just past the last byte taken in. */
  get end(): number {
    return this.ackedAt + this.size;
  }

  get bytes(): number {
    return this.size;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Takes in the next bytes of the stream; returns the offset of the first one. */
  push(chunk: Buffer): number {
    const at = this.end;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    return at;
  }

  /**
   * The peer has everything before `offset`: drop it. Returns false (and changes nothing) for an
   * acknowledgement beyond what was sent; an older acknowledgement than the last is harmless.
   */
  ack(offset: number): boolean {
    if (offset > this.end) return false;
    let drop = offset - this.ackedAt;
    if (drop <= 0) return true;
    this.ackedAt = offset;
    this.size -= drop;
    while (drop > 0) {
      const first = this.chunks[this.head] as Buffer;
      if (first.length <= drop) {
        drop -= first.length;
        this.chunks[this.head] = EMPTY;
        this.head += 1;
      } else {
        this.chunks[this.head] = first.subarray(drop);
        drop = 0;
      }
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return true;
  }

  /**
   * The bytes from `offset` to `until` (default: the end), in pieces of at most `maxPiece`, each
   * with its offset. Both must lie within [acked, end], `offset` not past `until`.
   */
  *from(offset: number, maxPiece: number, until = this.end): Generator<{ offset: number; data: Buffer }> {
    if (offset < this.ackedAt || offset > until || until > this.end) throw new RangeError(`[${offset}, ${until}] outside [${this.ackedAt}, ${this.end}]`);
    let at = this.ackedAt;
    for (let i = this.head; i < this.chunks.length && at < until; i += 1) {
      const c = this.chunks[i] as Buffer;
      const chunkEnd = at + c.length;
      if (chunkEnd > offset) {
        let start = Math.max(0, offset - at);
        const stop = Math.min(c.length, until - at);
        while (start < stop) {
          const piece = c.subarray(start, Math.min(stop, start + maxPiece));
          yield { offset: at + start, data: piece };
          start += piece.length;
        }
      }
      at = chunkEnd;
    }
  }

  /** Forgets everything (the session is spliced to a new server): the stream starts again at `offset`. */
  reset(offset = 0): void {
    this.chunks = [];
    this.head = 0;
    this.ackedAt = offset;
    this.size = 0;
  }
}

const EMPTY = Buffer.alloc(0);
