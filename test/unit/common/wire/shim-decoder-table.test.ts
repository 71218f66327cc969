import { describe, expect, it } from 'vitest';
import { step } from '../../../../common/fsm/table.js';
import { DECODER_STATES, DECODER_TABLE, type DecoderCtx, type DecoderEvent, type DecoderState } from '../../../../common/wire/shim-decoder-table.js';
import { CONTROL_MAX, FRAME, HEADER_BYTES, OFFSET_BYTES, encodeFrame, payloadBounds, type FrameType } from '../../../../common/wire/shim-frame.js';

const MAX_DATA = 4096;
const ctx = (pending: FrameType | null = null): DecoderCtx => ({ maxData: MAX_DATA, pending });
const header = (type: number, length: number): Uint8Array => {
  const h = new Uint8Array(HEADER_BYTES);
  h[0] = type;
  new DataView(h.buffer).setUint32(1, length);
  return h;
};
const EVENTS: readonly DecoderEvent[] = [
  { type: 'header', bytes: header(FRAME.PING, 0) },
  { type: 'payload', bytes: new Uint8Array(8) },
  { type: 'end', partial: 0 },
];
const TYPES = Object.values(FRAME) as FrameType[];

describe('the shim decoder table', () => {
  it('lists exactly these (state, event) pairs; every other pair is ignored', () => {
    const listed: Record<DecoderState, string[]> = { header: ['header', 'end'], payload: ['payload', 'end'], failed: [], ended: [] };
    for (const state of DECODER_STATES) {
      for (const event of EVENTS) {
        const r = step(DECODER_TABLE, state, ctx(FRAME.ACK), event, 0);
        expect(r.handled, `${state} + ${event.type}`).toBe(listed[state].includes(event.type));
        if (!r.handled) expect(r.effects).toEqual([]);
      }
    }
  });

  it('checks every frame type\'s length on the header, before any payload is read', () => {
    for (const type of TYPES) {
      const { min, max } = payloadBounds(type, MAX_DATA);
      for (const length of [min - 1, min, max, max + 1, 0xffffffff]) {
        if (length < 0) continue;
        const r = step(DECODER_TABLE, 'header', ctx(), { type: 'header', bytes: header(type, length) }, 0);
        if (length >= min && length <= max) {
          expect(r.to, `type ${type} length ${length}`).toBe(length === 0 ? 'header' : 'payload');
          expect(r.effects.at(-1)).toEqual({ kind: 'need', bytes: length === 0 ? HEADER_BYTES : length });
        } else {
          expect(r.to).toBe('failed');
          const code = length > max && (type === FRAME.DATA || max === CONTROL_MAX) ? 'SHIM_E_FRAME_TOO_LARGE' : 'SHIM_E_MALFORMED';
          expect(r.effects).toEqual([expect.objectContaining({ kind: 'error', code })]);
        }
      }
    }
  });

  it('refuses every unknown frame type', () => {
    for (let t = 0; t < 256; t += 1) {
      if ((TYPES as number[]).includes(t)) continue;
      const r = step(DECODER_TABLE, 'header', ctx(), { type: 'header', bytes: header(t, 8) }, 0);
      expect(r.to).toBe('failed');
      expect(r.effects[0]).toMatchObject({ kind: 'error', code: 'SHIM_E_MALFORMED' });
    }
  });

  it('turns each well-formed payload into its frame and asks for the next header', () => {
    const frames = [
      { type: 'HELLO', hello: { v: 1, op: 'open', service: 'web', shim: 0 } },
      { type: 'WELCOME', welcome: { session: 'a'.repeat(32), received: 5 } },
      { type: 'REFUSE', info: { code: 'SHIM_E_BAD_SECRET', message: 'no' } },
      { type: 'CLOSE', info: { code: 'SHIM_E_ABORTED', message: 'bye' } },
      { type: 'DATA', offset: 12, data: new Uint8Array([1, 2, 3]) },
      { type: 'ACK', received: 99 },
      { type: 'FIN', offset: 7 },
    ] as const;
    for (const f of frames) {
      const whole = Buffer.concat(encodeFrame(f));
      const type = whole[0] as FrameType;
      const r = step(DECODER_TABLE, 'payload', ctx(type), { type: 'payload', bytes: whole.subarray(HEADER_BYTES) }, 0);
      expect(r.to).toBe('header');
      expect(r.ctx.pending).toBeNull();
      expect(r.effects[0]).toMatchObject({ kind: 'frame' });
      const got = (r.effects[0] as { frame: unknown }).frame as Record<string, unknown>;
      expect({ ...got, ...(got.data ? { data: [...(got.data as Uint8Array)] } : {}) }).toEqual({ ...f, ...('data' in f ? { data: [...f.data] } : {}) });
      expect(r.effects[1]).toEqual({ kind: 'need', bytes: HEADER_BYTES });
    }
  });

  it('refuses payloads that are not what their type says', () => {
    const bad: Array<[FrameType, Uint8Array]> = [
      [FRAME.HELLO, new TextEncoder().encode('{"v":1,"op":"open"}')],
      [FRAME.HELLO, new TextEncoder().encode('not json')],
      [FRAME.HELLO, new Uint8Array([0xff, 0xfe])],
      [FRAME.WELCOME, new TextEncoder().encode('{"session":"xyz","received":0}')],
      [FRAME.REFUSE, new TextEncoder().encode('{"code":"NOT_A_SHIM_CODE","message":""}')],
      [FRAME.CLOSE, new TextEncoder().encode('[]')],
      [FRAME.CHALLENGE, new TextEncoder().encode('{"nonce":"xyz"}')],
      [FRAME.ACK, new Uint8Array(OFFSET_BYTES).fill(0xff)],
      [FRAME.FIN, new Uint8Array(OFFSET_BYTES).fill(0xff)],
      [FRAME.DATA, new Uint8Array(OFFSET_BYTES + 1).fill(0xff)],
    ];
    for (const [type, bytes] of bad) {
      const r = step(DECODER_TABLE, 'payload', ctx(type), { type: 'payload', bytes }, 0);
      expect(r.to, `type ${type}`).toBe('failed');
      expect(r.effects).toEqual([expect.objectContaining({ kind: 'error', code: 'SHIM_E_MALFORMED' })]);
    }
  });

  it('an end between frames is clean; inside a header or a payload it is SHIM_E_TRUNCATED', () => {
    expect(step(DECODER_TABLE, 'header', ctx(), { type: 'end', partial: 0 }, 0)).toMatchObject({ to: 'ended', effects: [] });
    expect(step(DECODER_TABLE, 'header', ctx(), { type: 'end', partial: 3 }, 0)).toMatchObject({ to: 'failed', effects: [{ code: 'SHIM_E_TRUNCATED' }] });
    for (const partial of [0, 5]) {
      expect(step(DECODER_TABLE, 'payload', ctx(FRAME.DATA), { type: 'end', partial }, 0)).toMatchObject({ to: 'failed', effects: [{ code: 'SHIM_E_TRUNCATED' }] });
    }
  });
});
