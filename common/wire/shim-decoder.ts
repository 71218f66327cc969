import { ArmoryError } from '../errors/armory-error.js';
import { step } from '../fsm/table.js';
import { DECODER_TABLE, type DecoderCtx, type DecoderEvent, type DecoderState } from './shim-decoder-table.js';
import { FRAME_DATA_DEFAULT, HEADER_BYTES, type ShimFrame } from './shim-frame.js';

/**
 * Runs the decoder table over a byte stream: gathers exactly the bytes the table asked for (a
 * header, then a payload whose length the table already accepted), and returns the frames. After
 * an error it refuses everything; the error is thrown once, with its SHIM_E_* code.
 */
export class ShimDecoder {
  private state: DecoderState = 'header';
  private ctx: DecoderCtx;
  private need = HEADER_BYTES;
  private parts: Uint8Array[] = [];
  private have = 0;

  /**
   * `alloc` makes the buffer a unit split across chunks is gathered into (every byte of it is
   * written before it is read, so it need not be zeroed: the agent passes Buffer.allocUnsafe).
   */
  constructor(
    maxData: number = FRAME_DATA_DEFAULT,
    private readonly alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(n),
  ) {
    this.ctx = { maxData, pending: null };
  }

  get current(): DecoderState {
    return this.state;
  }

  /**
   * Feeds a chunk; returns the complete frames in it. The decoder owns the chunk from now on (the
   * caller must not change it): data of DATA frames and pieces of unfinished frames share its memory.
   */
  push(chunk: Uint8Array): ShimFrame[] {
    this.refuseWhenDone();
    const frames: ShimFrame[] = [];
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(this.need - this.have, chunk.length - at);
      if (this.have === 0 && take === this.need) {
        // The whole unit is inside this chunk: no copy.
        this.feed(chunk.subarray(at, at + take), frames);
      } else {
        // Pieces are kept as views of their chunks (the decoder owns what it is given) and copied
        // once, into the whole unit, when its last piece arrives.
        this.parts.push(chunk.subarray(at, at + take));
        this.have += take;
        if (this.have === this.need) {
          const whole = this.alloc(this.have);
          let o = 0;
          for (const p of this.parts) {
            whole.set(p, o);
            o += p.length;
          }
          this.parts = [];
          this.have = 0;
          this.feed(whole, frames);
        }
      }
      at += take;
    }
    return frames;
  }

  /** The stream ended: fine between frames, SHIM_E_TRUNCATED inside one. */
  end(): void {
    this.apply({ type: 'end', partial: this.have }, []);
  }

  private refuseWhenDone(): void {
    if (this.state === 'failed') throw new ArmoryError('SHIM_E_MALFORMED', 'the path already sent an invalid frame');
    if (this.state === 'ended') throw new ArmoryError('SHIM_E_PROTOCOL', 'bytes after the end of the stream');
  }

  private feed(bytes: Uint8Array, frames: ShimFrame[]): void {
    this.apply(this.state === 'header' ? { type: 'header', bytes } : { type: 'payload', bytes }, frames);
  }

  private apply(event: DecoderEvent, frames: ShimFrame[]): void {
    const r = step(DECODER_TABLE, this.state, this.ctx, event, 0);
    this.state = r.to;
    this.ctx = r.ctx;
    for (const eff of r.effects) {
      if (eff.kind === 'need') this.need = eff.bytes;
      else if (eff.kind === 'frame') frames.push(eff.frame);
      else {
        this.parts = [];
        this.have = 0;
        throw new ArmoryError(eff.code, eff.message);
      }
    }
  }
}
