import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';

/**
 * Reads a replica's stdout or stderr as it streams: hashes every byte, writes at most `keepBytes`
 * of it to a file (the rest is counted and hashed, not kept) and remembers its last `tailBytes`.
 */
export class StreamCapture {
  bytes = 0;
  truncated = false;
  private readonly hash: Hash = createHash('sha256');
  private readonly fd: number;
  private tail: Buffer = Buffer.alloc(0);
  readonly done: Promise<void>;

  constructor(
    stream: Readable,
    readonly file: string,
    private keepBytes: number,
    private readonly tailBytes = 0,
  ) {
    this.fd = fs.openSync(file, 'w', 0o600);
    stream.on('data', (chunk: Buffer) => this.take(chunk));
    this.done = new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    }).then(() => fs.closeSync(this.fd));
  }

  private take(chunk: Buffer): void {
    this.hash.update(chunk);
    const room = this.keepBytes - this.bytes;
    try {
      if (room > 0) fs.writeSync(this.fd, chunk, 0, Math.min(room, chunk.length));
    } catch {
      // A full disk ends the kept copy, never the agent: the hash still covers every byte.
      this.keepBytes = this.bytes;
      this.truncated = true;
    }
    if (chunk.length > room) this.truncated = true;
    this.bytes += chunk.length;
    if (this.tailBytes > 0) {
      this.tail = Buffer.concat([this.tail, chunk]);
      if (this.tail.length > this.tailBytes) this.tail = this.tail.subarray(this.tail.length - this.tailBytes);
    }
  }

  sha256(): string {
    return this.hash.digest('hex');
  }

  tailText(): string {
    return this.tail.toString('utf8');
  }
}
