import type net from 'node:net';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { ErrorCode } from '../../common/errors/codes.js';
import { ShimDecoder } from '../../common/wire/shim-decoder.js';
import { encodeFrame, type ShimFrame } from '../../common/wire/shim-frame.js';

/** Writes of at most this many bytes are copied into one buffer: cheaper than a corked writev. */
const SMALL_WRITE = 16 * 1024;
/** A batch goes out in writes of about this size at most (a replay after a resume can be the whole buffer). */
const BATCH_MAX = 256 * 1024;

export interface PathHandlers {
  frame(frame: ShimFrame): void;
  /** The path is gone: an error (coded) or the peer ended it (`graceful`). Called once. */
  gone(why: { code: ErrorCode; message: string; graceful: boolean }): void;
}

/**
 * One connection between the two ends (mutual TLS, or plain TCP for transport tcp), carrying
 * frames. A bad frame ends the path (with its SHIM_E_* code), never the process. `lastHeard`
 * tells the heartbeat whether the path is alive: any frame counts.
 */
export class ShimPath {
  private readonly decoder: ShimDecoder;
  private handlers: PathHandlers | null = null;
  private done = false;
  /** Frames gathered by batch() for one write. */
  private pending: Uint8Array[] | null = null;
  private pendingBytes = 0;
  private readonly encrypted: boolean;
  lastHeard = Date.now();

  constructor(
    readonly socket: net.Socket,
    maxData: number,
  ) {
    this.decoder = new ShimDecoder(maxData, (n) => Buffer.allocUnsafe(n));
    this.encrypted = 'encrypted' in socket && socket.encrypted === true;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      try {
        this.decoder.end();
        this.finish({ code: 'SHIM_E_HALF_OPEN', message: 'the peer ended the path', graceful: true });
      } catch (e) {
        this.fail(e);
      }
    });
    socket.on('error', (e) => this.finish({ code: 'SHIM_E_HALF_OPEN', message: `path error: ${e.message}`, graceful: false }));
    socket.on('close', () => this.finish({ code: 'SHIM_E_HALF_OPEN', message: 'the path closed', graceful: false }));
  }

  get open(): boolean {
    return !this.done;
  }

  /** Sets who receives the frames (the handshake first, then the session). */
  bind(handlers: PathHandlers): void {
    this.handlers = handlers;
  }

  send(frame: ShimFrame): void {
    if (this.done) return;
    const parts = encodeFrame(frame);
    if (this.pending) {
      for (const p of parts) {
        this.pending.push(p);
        this.pendingBytes += p.length;
      }
      if (this.pendingBytes >= BATCH_MAX) {
        this.write(this.pending, this.pendingBytes);
        this.pending = [];
        this.pendingBytes = 0;
      }
    } else this.write(parts, parts.length === 1 ? (parts[0] as Uint8Array).length : (parts[0] as Uint8Array).length + (parts[1] as Uint8Array).length);
  }

  /**
   * Sends the frames `fill` sends as one write to the socket (one syscall, one run of TLS records),
   * or a few of about BATCH_MAX bytes each when they are many.
   */
  batch(fill: () => void): void {
    if (this.done || this.pending) {
      fill();
      return;
    }
    this.pending = [];
    this.pendingBytes = 0;
    try {
      fill();
    } finally {
      const parts = this.pending;
      this.pending = null;
      if (parts.length > 0 && !this.done) this.write(parts, this.pendingBytes);
    }
  }

  /**
   * One write for the parts of one or more frames. A TLS socket copies the pieces of a vectored
   * write into one buffer before encrypting, and one buffer from us costs less than that; over
   * plain TCP a vectored write of large pieces saves the copy.
   */
  private write(parts: Uint8Array[], bytes: number): void {
    if (parts.length === 1) this.socket.write(parts[0] as Uint8Array);
    else if (this.encrypted || bytes <= SMALL_WRITE) this.socket.write(Buffer.concat(parts, bytes));
    else {
      this.socket.cork();
      for (const p of parts) this.socket.write(p);
      this.socket.uncork();
    }
  }

  /** Sends a last frame (if any) and ends the path in order. */
  end(last?: ShimFrame): void {
    if (this.done) return;
    if (last) this.send(last);
    this.done = true;
    this.socket.end();
    // A peer that does not answer the end within a few seconds is not waited for.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  destroy(): void {
    this.done = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    this.lastHeard = Date.now();
    let frames: ShimFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.fail(e);
      return;
    }
    for (const f of frames) {
      if (this.done) return;
      this.handlers?.frame(f);
    }
  }

  /** A protocol error on this path: tell the peer why (best effort), end the path, report it. */
  fail(e: unknown): void {
    const err = e instanceof ArmoryError ? e : new ArmoryError('SHIM_E_PROTOCOL', (e as Error).message);
    const code = err.code.startsWith('SHIM_E_') ? err.code : 'SHIM_E_PROTOCOL';
    if (!this.done) {
      this.send({ type: 'CLOSE', info: { code, message: err.message.slice(0, 500) } });
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    this.finish({ code, message: err.message, graceful: false });
  }

  private finish(why: { code: ErrorCode; message: string; graceful: boolean }): void {
    const h = this.handlers;
    this.done = true;
    this.handlers = null;
    h?.gone(why);
  }
}
