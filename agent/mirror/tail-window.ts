import { createHash } from 'node:crypto';
import { APPEND_BASE_BYTES } from '../../common/wire/mirror-wire.js';

/**
 * The last ≤ 4 KiB of a file as it is read or sent front to back, for the `base` of the next
 * append: its SHA-256 is what the target's copy must end with for new bytes to go on after it.
 */
export class TailWindow {
  private buf = Buffer.alloc(0);

  /** Starts from the bytes just before `at` (the last ≤ 4 KiB of what the target has). */
  constructor(
    initial: Uint8Array = Buffer.alloc(0),
    private at = initial.length,
  ) {
    this.buf = Buffer.from(initial.subarray(Math.max(0, initial.length - APPEND_BASE_BYTES)));
  }

  /** The bytes at `offset`; a gap (a resumed copy skipped bytes) leaves the window unknown. */
  push(data: Uint8Array, offset: number): void {
    if (offset !== this.at) {
      this.buf = Buffer.alloc(0);
      this.at = Number.NaN;
      return;
    }
    const joined = Buffer.concat([this.buf, data]);
    this.buf = joined.subarray(Math.max(0, joined.length - APPEND_BASE_BYTES));
    this.at = offset + data.length;
  }

  /** The SHA-256 of the last ≤ 4 KiB before `size`, or null when the window does not hold them. */
  sha256(size: number): string | null {
    if (this.at !== size || this.buf.length !== Math.min(size, APPEND_BASE_BYTES)) return null;
    return createHash('sha256').update(this.buf).digest('hex');
  }
}
