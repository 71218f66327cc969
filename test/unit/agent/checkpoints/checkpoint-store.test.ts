import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../../../agent/checkpoints/checkpoint-store.js';
import type { CheckpointMeta } from '../../../../common/wire/checkpoint-protocol.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function store(keep = 3, maxSize = 1024 * 1024) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-ckpt-'));
  dirs.push(dir);
  const problems: string[] = [];
  return { s: new CheckpointStore({ dir, keep, maxSize, node: 'n1', onProblem: (r) => problems.push(r) }), dir, problems };
}

async function save(s: CheckpointStore, text: string, epoch = 0) {
  const w = await s.beginSave(epoch);
  await w.write(Buffer.from(text));
  return (await w.commit()).meta;
}

const read = async (s: CheckpointStore) => {
  const n = await s.newestValid();
  if (!n) return null;
  const parts: Buffer[] = [];
  for await (const c of s.openData(n)) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
};

const metaOf = (text: string, seq: number, epoch: number): CheckpointMeta => ({
  seq,
  epoch,
  size: Buffer.byteLength(text),
  sha256: createHash('sha256').update(text).digest('hex'),
  savedAt: new Date().toISOString(),
  node: 'n2',
});

describe('the checkpoint store', () => {
  it('numbers checkpoints, keeps the newest N and loads the newest', async () => {
    const { s, dir } = store(2);
    for (const t of ['a', 'b', 'c']) await save(s, t);
    expect(await read(s)).toBe('c');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.ckpt'))).toHaveLength(2);
    expect((await s.list()).map((c) => c.seq)).toEqual([3, 2]);
    // A new store on the same folder goes on with the numbering.
    const again = new CheckpointStore({ ...s.options });
    expect((await save(again, 'd')).seq).toBe(4);
  });

  it('an empty checkpoint is a checkpoint', async () => {
    const { s } = store();
    await save(s, '');
    expect(await read(s)).toBe('');
  });

  it('refuses more than its bound and leaves nothing behind', async () => {
    const { s, dir } = store(3, 10);
    const w = await s.beginSave(0);
    await expect(w.write(Buffer.alloc(11))).rejects.toMatchObject({ code: 'CHECKPOINT_E_TOO_LARGE' });
    await w.abort();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a replicated copy is checked against its checksum; one of an older epoch never replaces newer ones', async () => {
    const { s } = store();
    await save(s, 'mine', 2);
    await expect(s.beginReceive(metaOf('old', 9, 1))).rejects.toMatchObject({ code: 'CHECKPOINT_E_STALE_EPOCH' });
    const w = await s.beginReceive(metaOf('newer', 5, 3));
    await w?.write(Buffer.from('newer'));
    await w?.commit();
    expect(await read(s)).toBe('newer');
    const bad = await s.beginReceive(metaOf('right', 6, 3));
    await bad?.write(Buffer.from('wrong'));
    await expect(bad?.commit()).rejects.toMatchObject({ code: 'CHECKPOINT_E_CORRUPT' });
    expect(await read(s)).toBe('newer');
    // The same copy twice is stored once.
    expect(await s.beginReceive(metaOf('newer', 5, 3))).toBeNull();
    // A save after a received copy takes the next number.
    expect((await save(s, 'next', 3)).seq).toBe(6);
  });

  it('skips a damaged newest copy for the newest valid one, and says so', async () => {
    const { s, dir, problems } = store();
    await save(s, 'good');
    await save(s, 'will be damaged');
    const newest = fs.readdirSync(dir).filter((f) => f.endsWith('.ckpt')).sort().at(-1) as string;
    fs.writeFileSync(path.join(dir, newest), 'garbage');
    expect(await read(s)).toBe('good');
    expect(problems[0]).toMatch(/checkpoint 2 \(epoch 0\) is truncated .*; skipped for an older one/);
  });
});
