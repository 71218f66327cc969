import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { checkpointMetaSchema, type CheckpointMeta } from '../../common/wire/checkpoint-protocol.js';

/**
 * One stored checkpoint is one file: the program's bytes, then a trailer of JSON (its metadata with
 * the SHA-256 of the bytes), then the trailer's length (4 bytes, big-endian) and the magic "ACK1".
 * A trailer at the end lets a save stream straight to disk; a torn write has no valid trailer.
 */
export const CHECKPOINT_MAGIC = Buffer.from('ACK1');
const MAX_TRAILER = 4096;

export function encodeTrailer(meta: CheckpointMeta): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(json.length, 0);
  CHECKPOINT_MAGIC.copy(tail, 4);
  return Buffer.concat([json, tail]);
}

export function checkpointFileName(epoch: number, seq: number): string {
  return `e${String(epoch).padStart(10, '0')}-s${String(seq).padStart(12, '0')}.ckpt`;
}

export const CHECKPOINT_FILE = /^e(\d{10})-s(\d{12})\.ckpt$/;

export type CheckpointCheck = { ok: true; meta: CheckpointMeta } | { ok: false; problem: string; meta?: CheckpointMeta };

/** Reads a checkpoint file's trailer and, with `verify`, checks the bytes against its checksum. */
export async function checkCheckpointFile(file: string, options: { verify: boolean }): Promise<CheckpointCheck> {
  let fh;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    return { ok: false, problem: `is unreadable: ${(e as Error).message}` };
  }
  try {
    const { size: fileSize } = await fh.stat();
    if (fileSize < 8) return { ok: false, problem: 'is truncated (no trailer)' };
    const tail = Buffer.alloc(8);
    await fh.read(tail, 0, 8, fileSize - 8);
    if (!tail.subarray(4).equals(CHECKPOINT_MAGIC)) return { ok: false, problem: 'is truncated or overwritten (no trailer)' };
    const len = tail.readUInt32BE(0);
    if (len > MAX_TRAILER || len + 8 > fileSize) return { ok: false, problem: 'has a damaged trailer' };
    const json = Buffer.alloc(len);
    await fh.read(json, 0, len, fileSize - 8 - len);
    let meta: CheckpointMeta;
    try {
      meta = checkpointMetaSchema.parse(JSON.parse(json.toString('utf8')));
    } catch {
      return { ok: false, problem: 'has a damaged trailer' };
    }
    if (meta.size !== fileSize - 8 - len) return { ok: false, problem: `is truncated (${fileSize - 8 - len} of ${meta.size} bytes)`, meta };
    if (!options.verify) return { ok: true, meta };
    const hash = createHash('sha256');
    const buf = Buffer.alloc(Math.min(4 * 1024 * 1024, Math.max(1, meta.size)));
    for (let off = 0; off < meta.size; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, meta.size - off), off);
      if (bytesRead === 0) return { ok: false, problem: 'is truncated', meta };
      hash.update(buf.subarray(0, bytesRead));
      off += bytesRead;
    }
    const sum = hash.digest('hex');
    if (sum !== meta.sha256) return { ok: false, problem: 'fails its checksum (the bytes changed on disk)', meta };
    return { ok: true, meta };
  } finally {
    await fh.close();
  }
}
