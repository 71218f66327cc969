import type tls from 'node:tls';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { ErrorCode } from '../../common/errors/codes.js';
import { ShimDecoder } from '../../common/wire/shim-decoder.js';
import { encodeFrame, type ShimFrame } from '../../common/wire/shim-frame.js';

/** Frames with at most this much data are copied into one buffer: cheaper than a corked writev. */
const SMALL_FRAME = 4096;

export interface PathHandlers {
  frame(frame: ShimFrame): void;
  /** The path is gone: an error (coded) or the peer ended it (`graceful`). Called once. */
  gone(why: { code: ErrorCode; message: string; graceful: boolean }): void;
}

/**
 * One mutual-TLS connection between the two ends, carrying frames. A bad frame ends the path
 * (with its SHIM_E_* code), never the process. `lastHeard` tells the heartbeat whether the path is
 * alive: any frame counts.
 */
export class ShimPath {
  private readonly decoder: ShimDecoder;
  private handlers: PathHandlers | null = null;
  private done = false;
  lastHeard = Date.now();

  constructor(
    readonly socket: tls.TLSSocket,
    maxData: number,
  ) {
    this.decoder = new ShimDecoder(maxData);
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
    if (parts.length === 1) this.socket.write(parts[0] as Uint8Array);
    else if ((parts[1] as Uint8Array).length <= SMALL_FRAME) this.socket.write(Buffer.concat(parts));
    else {
      // Header and data leave in one write (one TLS record run) without copying the data.
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
