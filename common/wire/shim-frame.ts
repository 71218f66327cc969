import { z } from 'zod';

/**
 * The frame format the two ends of a session shim speak over their path (mutual TLS, or plain TCP
 * for a shim whose transport is `tcp`: then the session is opened over mutual TLS and every path
 * that carries it after is authenticated by a challenge and a proof made with the session's secret).
 *
 *   header: type (u8) · payload length (u32, big-endian) — 5 bytes
 *   payload, by type:
 *     HELLO, WELCOME, REFUSE, CLOSE   JSON text (≤ CONTROL_MAX bytes), schemas below
 *     CHALLENGE                       JSON text: the server end's nonce, first frame of a plain TCP path
 *     DATA                            stream offset of its first byte (u64) · 1..maxData bytes
 *     ACK                             bytes received so far, in order (u64); +1 once the FIN arrived
 *     FIN                             the stream's final offset (u64): the sender's program shut down writing
 *     PING                            empty; any frame proves the path alive
 *
 * A DATA frame is numbered by the stream offset of its first byte, so acknowledgements are
 * cumulative byte counts and a replay starts exactly where the peer's count ends.
 */
export const FRAME = { HELLO: 1, WELCOME: 2, REFUSE: 3, DATA: 4, ACK: 5, FIN: 6, CLOSE: 7, PING: 8, CHALLENGE: 9 } as const;
export type FrameTypeName = keyof typeof FRAME;
export type FrameType = (typeof FRAME)[FrameTypeName];

export const HEADER_BYTES = 5;
export const OFFSET_BYTES = 8;
export const CONTROL_MAX = 1024;
/** The default and the bounds of the data carried by one DATA frame. */
export const FRAME_DATA_DEFAULT = 64 * 1024;
export const FRAME_DATA_MIN = 1024;
export const FRAME_DATA_MAX = 1024 * 1024;
export const SHIM_PROTOCOL = 1;

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes} bytes in hex`);
export const SESSION_ID_BYTES = 16;
export const SESSION_SECRET_BYTES = 32;
/** Nonces of the challenge on a plain TCP path, and the HMAC-SHA256 proofs made over them. */
export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;
const offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const serviceName = z.string().min(1).max(64);

export const helloSchema = z.discriminatedUnion('op', [
  z.strictObject({ v: z.literal(SHIM_PROTOCOL), op: z.literal('open'), service: serviceName, shim: z.number().int().min(0).max(31) }),
  z.strictObject({
    v: z.literal(SHIM_PROTOCOL),
    op: z.literal('resume'),
    service: serviceName,
    shim: z.number().int().min(0).max(31),
    session: hex(SESSION_ID_BYTES),
    secret: hex(SESSION_SECRET_BYTES),
    received: offset,
  }),
  /** A resume over a plain TCP path: no secret, a proof that the sender knows it (answering the CHALLENGE). */
  z.strictObject({
    v: z.literal(SHIM_PROTOCOL),
    op: z.literal('prove'),
    service: serviceName,
    shim: z.number().int().min(0).max(31),
    session: hex(SESSION_ID_BYTES),
    received: offset,
    nonce: hex(NONCE_BYTES),
    proof: hex(PROOF_BYTES),
  }),
]);
export type Hello = z.output<typeof helloSchema>;

export const welcomeSchema = z.strictObject({
  session: hex(SESSION_ID_BYTES),
  /** Only in the answer to `open`: the per-session secret that a resume must present. */
  secret: hex(SESSION_SECRET_BYTES).optional(),
  received: offset,
  /** Only in the answer to `prove`: the server end's proof that it knows the secret too. */
  proof: hex(PROOF_BYTES).optional(),
});
export type Welcome = z.output<typeof welcomeSchema>;

/** REFUSE (an open or resume is refused) and CLOSE (the session ends): a SHIM_E_* code and why. */
export const closeSchema = z.strictObject({
  code: z.string().regex(/^SHIM_E_[A-Z_]+$/).max(64),
  message: z.string().max(512),
});
export type CloseInfo = z.output<typeof closeSchema>;

export const challengeSchema = z.strictObject({ nonce: hex(NONCE_BYTES) });
export type Challenge = z.output<typeof challengeSchema>;

export type ShimFrame =
  | { readonly type: 'HELLO'; readonly hello: Hello }
  | { readonly type: 'WELCOME'; readonly welcome: Welcome }
  | { readonly type: 'REFUSE'; readonly info: CloseInfo }
  | { readonly type: 'CLOSE'; readonly info: CloseInfo }
  | { readonly type: 'DATA'; readonly offset: number; readonly data: Uint8Array }
  | { readonly type: 'ACK'; readonly received: number }
  | { readonly type: 'FIN'; readonly offset: number }
  | { readonly type: 'PING' }
  | { readonly type: 'CHALLENGE'; readonly challenge: Challenge };

/** Payload length bounds per frame type, checked on the header before anything is buffered. */
export function payloadBounds(type: FrameType, maxData: number): { min: number; max: number } {
  switch (type) {
    case FRAME.HELLO:
    case FRAME.WELCOME:
    case FRAME.REFUSE:
    case FRAME.CLOSE:
    case FRAME.CHALLENGE:
      return { min: 2, max: CONTROL_MAX };
    case FRAME.DATA:
      return { min: OFFSET_BYTES + 1, max: OFFSET_BYTES + maxData };
    case FRAME.ACK:
    case FRAME.FIN:
      return { min: OFFSET_BYTES, max: OFFSET_BYTES };
    case FRAME.PING:
      return { min: 0, max: 0 };
  }
}

export function isFrameType(n: number): n is FrameType {
  return Number.isInteger(n) && n >= FRAME.HELLO && n <= FRAME.CHALLENGE;
}

export const FRAME_NAMES: Readonly<Record<FrameType, FrameTypeName>> = Object.fromEntries(
  Object.entries(FRAME).map(([k, v]) => [v, k]),
) as Record<FrameType, FrameTypeName>;

// Big-endian numbers are written and read byte by byte: a DataView per frame costs more than the
// rest of the frame's encoding.
function putU32(b: Uint8Array, at: number, n: number): void {
  b[at] = n >>> 24;
  b[at + 1] = (n >>> 16) & 0xff;
  b[at + 2] = (n >>> 8) & 0xff;
  b[at + 3] = n & 0xff;
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at] as number) * 2 ** 24 + (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)));
}

function header(type: FrameType, length: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h[0] = type;
  putU32(h, 1, length);
  return h;
}

/** A header followed by one u64 (DATA's offset, ACK's count, FIN's offset): one allocation. */
function headerU64(type: FrameType, length: number, n: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES + OFFSET_BYTES);
  h[0] = type;
  putU32(h, 1, length);
  // Two 32-bit halves: offsets stay below 2^53, and no BigInt is made per frame.
  putU32(h, HEADER_BYTES, Math.floor(n / 2 ** 32));
  putU32(h, HEADER_BYTES + 4, n >>> 0);
  return h;
}

export function readU64(bytes: Uint8Array, at = 0): number | null {
  if (bytes.length < at + OFFSET_BYTES) throw new RangeError('u64 beyond the end of the bytes');
  const high = readU32(bytes, at);
  // 2^53 - 1 is the largest safe integer: its high half is 2^21 - 1.
  return high >= 2 ** 21 ? null : high * 2 ** 32 + readU32(bytes, at + 4);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const json = (type: FrameType, value: unknown) => {
  const body = new TextEncoder().encode(JSON.stringify(value));
  return concat([header(type, body.length), body]);
};

/**
 * Encodes one frame. A DATA frame comes back as two parts (header with offset, then the data
 * itself, not copied) so that a writer can hand both to the socket at once.
 */
export function encodeFrame(frame: ShimFrame): Uint8Array[] {
  switch (frame.type) {
    case 'HELLO':
      return [json(FRAME.HELLO, frame.hello)];
    case 'WELCOME':
      return [json(FRAME.WELCOME, frame.welcome)];
    case 'REFUSE':
      return [json(FRAME.REFUSE, frame.info)];
    case 'CLOSE':
      return [json(FRAME.CLOSE, frame.info)];
    case 'DATA':
      return [headerU64(FRAME.DATA, OFFSET_BYTES + frame.data.length, frame.offset), frame.data];
    case 'ACK':
      return [headerU64(FRAME.ACK, OFFSET_BYTES, frame.received)];
    case 'FIN':
      return [headerU64(FRAME.FIN, OFFSET_BYTES, frame.offset)];
    case 'PING':
      return [header(FRAME.PING, 0)];
    case 'CHALLENGE':
      return [json(FRAME.CHALLENGE, frame.challenge)];
  }
}
