import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamCapture } from '../../../../agent/jobs/stream-capture.js';

let dir = '';
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('StreamCapture', () => {
  it('hashes every byte but keeps only the first keepBytes on disk and the last tailBytes in memory', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-sc-'));
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000, 65 + (i % 26)));
    const all = Buffer.concat(chunks);
    const c = new StreamCapture(Readable.from(chunks), path.join(dir, 'out'), 4500, 10);
    await c.done;
    expect(c.bytes).toBe(all.length);
    expect(c.truncated).toBe(true);
    expect(c.sha256()).toBe(createHash('sha256').update(all).digest('hex'));
    expect(fs.readFileSync(path.join(dir, 'out'))).toEqual(all.subarray(0, 4500));
    expect(c.tailText()).toBe(all.subarray(all.length - 10).toString());
  });

  it('an empty stream is an empty, untruncated capture', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-sc-'));
    const c = new StreamCapture(Readable.from([]), path.join(dir, 'out'), 10);
    await c.done;
    expect([c.bytes, c.truncated, c.sha256()]).toEqual([0, false, createHash('sha256').digest('hex')]);
  });
});
