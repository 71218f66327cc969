import type { ErrorCode } from '../errors/codes.js';
import type { TransitionTable } from '../fsm/table.js';
import {
  CONTROL_MAX,
  FRAME,
  FRAME_NAMES,
  HEADER_BYTES,
  OFFSET_BYTES,
  challengeSchema,
  closeSchema,
  helloSchema,
  isFrameType,
  payloadBounds,
  readU32,
  readU64,
  welcomeSchema,
  type FrameType,
  type ShimFrame,
} from './shim-frame.js';

/**
 * The shim frame decoder as a transition table. The runner (shim-decoder.ts) only gathers bytes:
 * as many as the last `need` effect asked for, then hands them over as one event. Everything that
 * decides (is the type known, is the length within bounds for the type — before the payload is
 * buffered —, is the payload well formed, did the stream end cleanly) is here.
 */
export type DecoderState = 'header' | 'payload' | 'failed' | 'ended';

export type DecoderEvent =
  | { readonly type: 'header'; readonly bytes: Uint8Array }
  | { readonly type: 'payload'; readonly bytes: Uint8Array }
  /** The stream ended; `partial` bytes of an unfinished header or payload were held. */
  | { readonly type: 'end'; readonly partial: number };

export interface DecoderCtx {
  /** The largest data a DATA frame may carry. */
  readonly maxData: number;
  /** The frame whose payload is awaited. */
  readonly pending: FrameType | null;
}

export type DecoderEffect =
  | { readonly kind: 'need'; readonly bytes: number }
  | { readonly kind: 'frame'; readonly frame: ShimFrame }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly message: string };

export const DECODER_STATES: readonly DecoderState[] = ['header', 'payload', 'failed', 'ended'];

const NEED_HEADER: DecoderEffect = { kind: 'need', bytes: HEADER_BYTES };
// The reasons of the transitions every frame takes, made once (not per frame).
const byType = (text: (name: string) => string) => Object.fromEntries(Object.entries(FRAME_NAMES).map(([t, name]) => [t, text(name)])) as Record<FrameType, string>;
const FRAME_REASONS = byType((name) => `${name} frame`);
const HEADER_REASONS = byType((name) => `${name} header, payload to read`);

const fail = (code: ErrorCode, message: string) => ({ to: 'failed' as const, effects: [{ kind: 'error' as const, code, message }], reason: message });

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/** The frame a complete payload makes, or why it is not one. */
export function parsePayload(type: FrameType, bytes: Uint8Array): ShimFrame | string {
  switch (type) {
    case FRAME.DATA: {
      const offset = readU64(bytes);
      return offset === null ? 'DATA offset beyond 2^53' : { type: 'DATA', offset, data: bytes.subarray(OFFSET_BYTES) };
    }
    case FRAME.ACK: {
      const received = readU64(bytes);
      return received === null ? 'ACK count beyond 2^53' : { type: 'ACK', received };
    }
    case FRAME.FIN: {
      const offset = readU64(bytes);
      return offset === null ? 'FIN offset beyond 2^53' : { type: 'FIN', offset };
    }
    case FRAME.PING:
      return { type: 'PING' };
    case FRAME.HELLO: {
      const r = helloSchema.safeParse(parseJson(bytes));
      return r.success ? { type: 'HELLO', hello: r.data } : 'HELLO is not valid';
    }
    case FRAME.WELCOME: {
      const r = welcomeSchema.safeParse(parseJson(bytes));
      return r.success ? { type: 'WELCOME', welcome: r.data } : 'WELCOME is not valid';
    }
    case FRAME.CHALLENGE: {
      const r = challengeSchema.safeParse(parseJson(bytes));
      return r.success ? { type: 'CHALLENGE', challenge: r.data } : 'CHALLENGE is not valid';
    }
    case FRAME.REFUSE:
    case FRAME.CLOSE: {
      const r = closeSchema.safeParse(parseJson(bytes));
      if (!r.success) return `${FRAME_NAMES[type]} is not valid`;
      return type === FRAME.REFUSE ? { type: 'REFUSE', info: r.data } : { type: 'CLOSE', info: r.data };
    }
  }
}

export const DECODER_TABLE: TransitionTable<DecoderState, DecoderEvent, DecoderCtx, DecoderEffect> = {
  header: {
    header: (ctx, e) => {
      const type = e.bytes[0] as number;
      if (e.bytes.length !== HEADER_BYTES) return fail('SHIM_E_MALFORMED', `a frame header is ${HEADER_BYTES} bytes, not ${e.bytes.length}`);
      if (!isFrameType(type)) return fail('SHIM_E_MALFORMED', `unknown frame type ${type}`);
      const length = readU32(e.bytes, 1);
      const { min, max } = payloadBounds(type, ctx.maxData);
      if (length > max) {
        const code = type === FRAME.DATA || max === CONTROL_MAX ? 'SHIM_E_FRAME_TOO_LARGE' : 'SHIM_E_MALFORMED';
        return fail(code, `a ${FRAME_NAMES[type]} frame of ${length} bytes (at most ${max})`);
      }
      if (length < min) return fail('SHIM_E_MALFORMED', `a ${FRAME_NAMES[type]} frame of ${length} bytes (at least ${min})`);
      if (length === 0) {
        const frame = parsePayload(type, new Uint8Array(0)) as ShimFrame;
        return { to: 'header', effects: [{ kind: 'frame', frame }, NEED_HEADER], reason: FRAME_REASONS[type] };
      }
      return { to: 'payload', ctx: { maxData: ctx.maxData, pending: type }, effects: [{ kind: 'need', bytes: length }], reason: HEADER_REASONS[type] };
    },
    end: (_ctx, e) => (e.partial === 0 ? { to: 'ended', reason: 'the stream ended between frames' } : fail('SHIM_E_TRUNCATED', `the stream ended inside a frame header (${e.partial} of ${HEADER_BYTES} bytes)`)),
  },
  payload: {
    payload: (ctx, e) => {
      const type = ctx.pending as FrameType;
      const frame = parsePayload(type, e.bytes);
      if (typeof frame === 'string') return fail('SHIM_E_MALFORMED', frame);
      return { to: 'header', ctx: { maxData: ctx.maxData, pending: null }, effects: [{ kind: 'frame', frame }, NEED_HEADER], reason: FRAME_REASONS[type] };
    },
    end: (ctx, e) => fail('SHIM_E_TRUNCATED', `the stream ended inside a ${ctx.pending === null ? '?' : FRAME_NAMES[ctx.pending]} frame (${e.partial} bytes of its payload)`),
  },
  failed: {},
  ended: {},
};
