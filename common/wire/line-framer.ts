import { ArmoryError } from '../errors/armory-error.js';
import { MAX_MESSAGE_BYTES } from './protocol.js';

/**
 * One message as it came off the wire: its JSON line, and the raw byte blocks sent just before it
 * (its attachments, which the JSON refers to as `{"$bin": index}`; see encodeFrame).
 */
export interface WireFrame {
  readonly line: string;
  readonly attachments: readonly Uint8Array[];
}

/** Attachments one message may carry. */
export const MAX_ATTACHMENTS = 16;
/** An attachment's header line: `~` and its length in decimal, then exactly that many raw bytes. */
const ATTACHMENT_HEADER = /^~(0|[1-9]\d{0,9})$/;

/**
 * Splits a byte stream into newline-terminated JSON messages, each with the raw byte blocks
 * (attachments) sent before it. The size bound is checked before more is buffered: a message whose
 * line and attachments together pass the limit raises WIRE_E_FRAME_TOO_LARGE and the framer refuses
 * anything further, so that a peer cannot make us hold unbounded memory.
 */
export class LineFramer {
  private parts: Uint8Array[] = [];
  private pending = 0;
  private attachments: Uint8Array[] = [];
  /** Bytes of the current message's attachments (counted against the limit with its line). */
  private attached = 0;
  /** The attachment being read: its bytes and how many have come. */
  private raw: { buf: Uint8Array; filled: number } | null = null;
  private broken = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(private readonly maxBytes: number = MAX_MESSAGE_BYTES) {}

  /** Feeds a chunk; returns the messages it finished. */
  push(chunk: Uint8Array): WireFrame[] {
    if (this.broken) throw new ArmoryError('WIRE_E_FRAME_TOO_LARGE', 'the connection already sent an oversized or malformed message');
    const frames: WireFrame[] = [];
    let start = 0;
    for (let guard = 0; guard <= chunk.length && start < chunk.length; guard += 1) {
      const raw = this.raw;
      if (raw) {
        const n = Math.min(raw.buf.length - raw.filled, chunk.length - start);
        raw.buf.set(chunk.subarray(start, start + n), raw.filled);
        raw.filled += n;
        start += n;
        if (raw.filled === raw.buf.length) this.endAttachment();
        continue;
      }
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.append(chunk.subarray(start));
        break;
      }
      this.append(chunk.subarray(start, nl));
      start = nl + 1;
      const line = this.take();
      if (line.startsWith('~')) this.startAttachment(line);
      else {
        frames.push({ line, attachments: this.attachments });
        this.attachments = [];
        this.attached = 0;
      }
    }
    return frames;
  }

  private fail(code: 'WIRE_E_FRAME_TOO_LARGE' | 'WIRE_E_MALFORMED', message: string): never {
    this.broken = true;
    this.parts = [];
    this.attachments = [];
    this.raw = null;
    throw new ArmoryError(code, message);
  }

  private startAttachment(header: string): void {
    const m = ATTACHMENT_HEADER.exec(header);
    if (!m) this.fail('WIRE_E_MALFORMED', 'an attachment header is not ~LENGTH');
    if (this.attachments.length >= MAX_ATTACHMENTS) this.fail('WIRE_E_MALFORMED', `a message has more than ${MAX_ATTACHMENTS} attachments`);
    const length = Number(m[1]);
    if (this.attached + length > this.maxBytes) this.fail('WIRE_E_FRAME_TOO_LARGE', `a message is larger than ${this.maxBytes} bytes`);
    this.attached += length;
    this.raw = { buf: new Uint8Array(length), filled: 0 };
    if (length === 0) this.endAttachment();
  }

  private endAttachment(): void {
    if (this.raw) this.attachments.push(this.raw.buf);
    this.raw = null;
  }

  private append(part: Uint8Array): void {
    if (part.length === 0) return;
    if (this.attached + this.pending + part.length > this.maxBytes) this.fail('WIRE_E_FRAME_TOO_LARGE', `a message is larger than ${this.maxBytes} bytes`);
    this.parts.push(part.slice());
    this.pending += part.length;
  }

  private take(): string {
    const buf = new Uint8Array(this.pending);
    let off = 0;
    for (const p of this.parts) {
      buf.set(p, off);
      off += p.length;
    }
    this.parts = [];
    this.pending = 0;
    try {
      return this.decoder.decode(buf);
    } catch {
      throw new ArmoryError('WIRE_E_MALFORMED', 'a message is not valid UTF-8');
    }
  }
}

/** Parses one line as JSON, with a coded error instead of a SyntaxError. */
export function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new ArmoryError('WIRE_E_MALFORMED', 'a message is not valid JSON');
  }
}

export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

const isBinRef = (v: Record<string, unknown>): boolean => {
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === '$bin';
};

/**
 * A message as it came: its JSON, with each `{"$bin": i}` replaced by attachment i. Every
 * attachment must be referred to exactly once (anything else is WIRE_E_MALFORMED).
 */
export function parseFrame(frame: WireFrame): unknown {
  const message = parseJsonLine(frame.line);
  const { attachments } = frame;
  if (attachments.length === 0) return message;
  const used = new Set<number>();
  const revive = (v: unknown, depth: number): unknown => {
    if (depth > 64 || typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i += 1) v[i] = revive(v[i], depth + 1);
      return v;
    }
    const o = v as Record<string, unknown>;
    if (isBinRef(o)) {
      const i = o.$bin;
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= attachments.length || used.has(i)) {
        throw new ArmoryError('WIRE_E_MALFORMED', `a message refers to attachment ${JSON.stringify(i)}, which it does not carry (or twice)`);
      }
      used.add(i);
      return attachments[i];
    }
    for (const k of Object.keys(o)) o[k] = revive(o[k], depth + 1);
    return o;
  };
  const revived = revive(message, 0);
  if (used.size !== attachments.length) throw new ArmoryError('WIRE_E_MALFORMED', `a message carries ${attachments.length} attachments and refers to ${used.size}`);
  return revived;
}

/**
 * A message for the wire: byte arrays (Uint8Array, Buffer) anywhere in it go as raw attachments
 * before its JSON line, instead of as base64 inside it (JSON.stringify of a long string costs more
 * than the copy; the receiver has no base64 to check and decode). Only for a peer that said it reads
 * attachments (WIRE_FEATURE_ATTACHMENTS); without byte arrays it is encodeLine's text.
 */
export function encodeFrame(message: unknown): string | Uint8Array {
  const blobs: Uint8Array[] = [];
  let sendsRef = false;
  // A copy with the byte arrays taken out (JSON.stringify would call a Buffer's toJSON, an array of numbers, before any replacer).
  const extract = (v: unknown, depth: number): unknown => {
    if (typeof v !== 'object' || v === null || depth > 64) return v;
    if (v instanceof Uint8Array) {
      if (blobs.length >= MAX_ATTACHMENTS) throw new ArmoryError('WIRE_E_MALFORMED', `a message would carry more than ${MAX_ATTACHMENTS} attachments`);
      blobs.push(v);
      return { $bin: blobs.length - 1 };
    }
    if (Array.isArray(v)) return v.map((x) => extract(x, depth + 1));
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return v;
    const o = v as Record<string, unknown>;
    if (isBinRef(o)) sendsRef = true;
    // (No prototype: a key named __proto__ stays a key.)
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(o)) out[k] = extract(o[k], depth + 1);
    return out;
  };
  const json = JSON.stringify(extract(message, 0));
  // Such an object of the caller's own would read as a reference beside attachments.
  if (sendsRef && blobs.length > 0) throw new ArmoryError('WIRE_E_MALFORMED', 'a message with byte arrays cannot also hold an object whose only key is $bin');
  if (blobs.length === 0) return `${json}\n`;
  const encoder = new TextEncoder();
  const head = blobs.map((b) => encoder.encode(`~${b.length}\n`));
  const line = encoder.encode(`${json}\n`);
  const out = new Uint8Array(head.reduce((n, h, i) => n + h.length + (blobs[i] as Uint8Array).length, line.length));
  let off = 0;
  blobs.forEach((b, i) => {
    const h = head[i] as Uint8Array;
    out.set(h, off);
    out.set(b, off + h.length);
    off += h.length + b.length;
  });
  out.set(line, off);
  return out;
}
