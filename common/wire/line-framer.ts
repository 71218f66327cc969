import { ArmoryError } from '../errors/armory-error.js';
import { MAX_MESSAGE_BYTES } from './protocol.js';

/**
 * Splits a byte stream into newline-terminated JSON messages. The size bound is checked before more
 * is buffered: a line longer than the limit raises WIRE_E_FRAME_TOO_LARGE and the framer refuses
 * anything further, so that a peer cannot make us hold unbounded memory.
 */
export class LineFramer {
  private parts: Uint8Array[] = [];
  private pending = 0;
  private broken = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(private readonly maxBytes: number = MAX_MESSAGE_BYTES) {}

  /** Feeds a chunk; returns the complete lines it finished, as text. */
  push(chunk: Uint8Array): string[] {
    if (this.broken) throw new ArmoryError('WIRE_E_FRAME_TOO_LARGE', 'the connection already sent an oversized message');
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.append(chunk.subarray(start, nl));
      lines.push(this.take());
      start = nl + 1;
    }
    this.append(chunk.subarray(start));
    return lines;
  }

  private append(part: Uint8Array): void {
    if (part.length === 0) return;
    if (this.pending + part.length > this.maxBytes) {
      this.broken = true;
      this.parts = [];
      throw new ArmoryError('WIRE_E_FRAME_TOO_LARGE', `a message is larger than ${this.maxBytes} bytes`);
    }
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
