import { z } from 'zod';
import { ArmoryError } from '../errors/armory-error.js';

/**
 * The checkpoint socket protocol (a Unix stream socket per service, ARMORY_CHECKPOINT_SOCKET):
 *
 *   program → agent: one request line of JSON (at most MAX_REQUEST_LINE bytes, ending in \n);
 *                    after {"op":"save"} the checkpoint follows as frames: a 4-byte big-endian
 *                    length (1..MAX_FRAME_BYTES) and that many bytes; a zero length ends it.
 *   agent → program: one reply line of JSON; after a successful load, exactly `checkpoint.size`
 *                    raw bytes follow and the agent closes the connection.
 */
export const MAX_REQUEST_LINE = 1024;
export const MAX_FRAME_BYTES = 1024 * 1024;

export const checkpointRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('save') }),
  z.strictObject({ op: z.literal('load'), seq: z.number().int().nonnegative().optional() }),
  z.strictObject({ op: z.literal('list') }),
]);
export type CheckpointRequest = z.output<typeof checkpointRequestSchema>;

/** What is known of one stored checkpoint. */
export const checkpointMetaSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  savedAt: z.string(),
  node: z.string().max(253),
});
export type CheckpointMeta = z.output<typeof checkpointMetaSchema>;

export const checkpointReplySchema = z.union([
  z.strictObject({ ok: z.literal(true), checkpoint: checkpointMetaSchema.optional(), checkpoints: z.array(checkpointMetaSchema.extend({ valid: z.boolean() })).optional() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ code: z.string(), message: z.string() }) }),
]);
export type CheckpointReply = z.output<typeof checkpointReplySchema>;

export type DecodedPart = { kind: 'request'; request: CheckpointRequest } | { kind: 'data'; bytes: Uint8Array } | { kind: 'end'; size: number };

/** Encodes bytes as one save frame (an empty chunk is the end marker). */
export function encodeFrame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/**
 * The agent's decoder of what a program sends: bounds are checked before anything is buffered,
 * every malformed input is a CHECKPOINT_E_* error, and after an error or the end it accepts nothing.
 */
export class CheckpointRequestDecoder {
  private phase: 'line' | 'header' | 'frame' | 'done' | 'broken' = 'line';
  private line: Uint8Array[] = [];
  private lineBytes = 0;
  private header = new Uint8Array(4);
  private headerFill = 0;
  private frameLeft = 0;
  private total = 0;

  constructor(private readonly maxSize: number) {}

  push(chunk: Uint8Array): DecodedPart[] {
    if (this.phase === 'broken') throw new ArmoryError('CHECKPOINT_E_FRAME', 'the stream already broke the protocol');
    try {
      return this.consume(chunk);
    } catch (e) {
      this.phase = 'broken';
      throw e;
    }
  }

  private consume(chunk: Uint8Array): DecodedPart[] {
    const out: DecodedPart[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'line') {
        const nl = chunk.indexOf(10, i);
        const end = nl === -1 ? chunk.length : nl;
        if (this.lineBytes + (end - i) > MAX_REQUEST_LINE) throw new ArmoryError('CHECKPOINT_E_BAD_REQUEST', `the request line is longer than ${MAX_REQUEST_LINE} bytes`);
        this.line.push(chunk.slice(i, end));
        this.lineBytes += end - i;
        i = end;
        if (nl === -1) break;
        i += 1;
        const request = parseRequest(concat(this.line, this.lineBytes));
        this.lineBytes = 0;
        this.line = [];
        out.push({ kind: 'request', request });
        this.phase = request.op === 'save' ? 'header' : 'done';
      } else if (this.phase === 'header') {
        const take = Math.min(4 - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + take), this.headerFill);
        this.headerFill += take;
        i += take;
        if (this.headerFill < 4) break;
        this.headerFill = 0;
        const len = new DataView(this.header.buffer).getUint32(0);
        if (len === 0) {
          this.phase = 'done';
          out.push({ kind: 'end', size: this.total });
          continue;
        }
        if (len > MAX_FRAME_BYTES) throw new ArmoryError('CHECKPOINT_E_FRAME', `a frame of ${len} bytes is larger than ${MAX_FRAME_BYTES}`);
        if (this.total + len > this.maxSize) throw new ArmoryError('CHECKPOINT_E_TOO_LARGE', `the checkpoint is larger than its bound of ${this.maxSize} bytes`);
        this.total += len;
        this.frameLeft = len;
        this.phase = 'frame';
      } else if (this.phase === 'frame') {
        const take = Math.min(this.frameLeft, chunk.length - i);
        out.push({ kind: 'data', bytes: chunk.subarray(i, i + take) });
        this.frameLeft -= take;
        i += take;
        if (this.frameLeft === 0) this.phase = 'header';
      } else {
        throw new ArmoryError('CHECKPOINT_E_FRAME', 'bytes after the end of the request');
      }
    }
    return out;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function parseRequest(bytes: Uint8Array): CheckpointRequest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ArmoryError('CHECKPOINT_E_BAD_REQUEST', 'the request line is not JSON in UTF-8');
  }
  const parsed = checkpointRequestSchema.safeParse(json);
  if (!parsed.success) throw new ArmoryError('CHECKPOINT_E_BAD_REQUEST', `not a checkpoint request: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
