import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WIRE_FEATURE_ATTACHMENTS } from '../../../../common/wire/protocol.js';
import { mirroredToLocalAndPeer } from '../../../helpers/mirror-peer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `src` mirrored to a local folder and to a standby over mutual TLS on loopback. */
async function mirrored(options: { appends?: boolean; peerFeatures?: readonly string[] } = {}) {
  const m = await mirroredToLocalAndPeer(options);
  cleanups.push(m.close);
  const sent = () => m.fm.status().map((s) => s.sentBytes);
  return { ...m, sent };
}

function expectSame(src: string, copies: string[]): void {
  const want = fs.readFileSync(src);
  for (const c of copies) expect(fs.readFileSync(c).equals(want), c).toBe(true);
}

describe('the wire to a standby', () => {
  it.each([
    ['an agent that reads attachments gets the bytes raw', [WIRE_FEATURE_ATTACHMENTS], 1, 1.05],
    ['an older agent (no features in its hello) gets them as base64', [], 4 / 3, 1.4],
  ] as const)('%s; both copies end identical', async (_label, peerFeatures, atLeast, below) => {
    const { fm, src, copies, peer } = await mirrored({ peerFeatures });
    const f = path.join(src, 'blob');
    const size = 3 * 1024 * 1024;
    fs.writeFileSync(f, randomBytes(size));
    await fm.barrier();
    for (let i = 0; i < 20; i += 1) {
      fs.appendFileSync(f, randomBytes(50_000));
      await fm.barrier();
    }
    expectSame(f, copies('blob'));
    const sent = size + 20 * 50_000;
    expect(peer.wireBytes()).toBeGreaterThanOrEqual(sent * atLeast);
    expect(peer.wireBytes()).toBeLessThan(sent * below);
  });
});

describe('append shipping', () => {
  it('an AOF-like file appended 1,000 times ends byte-identical on both targets, and only the new bytes are sent', async () => {
    const { fm, src, copies, sent, events } = await mirrored();
    const aof = path.join(src, 'appendonly.aof');
    fs.writeFileSync(aof, randomBytes(1024 * 1024));
    await fm.barrier();
    expectSame(aof, copies('appendonly.aof'));
    const before = sent();
    let appended = 0;
    for (let i = 0; i < 1000; i += 1) {
      const rec = `*3\r\n$3\r\nSET\r\n$${String(i).length + 4}\r\nkey:${i}\r\n$${64}\r\n${randomBytes(32).toString('hex')}\r\n`;
      fs.appendFileSync(aof, rec);
      appended += rec.length;
      if (i % 10 === 9) await fm.barrier();
    }
    await fm.barrier();
    expectSame(aof, copies('appendonly.aof'));
    for (const [i, after] of sent().entries()) {
      const delta = after - (before[i] as number);
      // Each target got about the appended bytes: nowhere near one more copy of the 1 MB file.
      expect(delta).toBeGreaterThanOrEqual(appended);
      expect(delta).toBeLessThan(appended * 1.5);
    }
    expect(events.filter((e) => e.includes('not what was sent'))).toEqual([]);
  });

  it('a file truncated, rewritten in place or replaced by a new inode is copied whole and ends identical', async () => {
    const { fm, src, copies } = await mirrored();
    const f = path.join(src, 'data');
    fs.writeFileSync(f, randomBytes(64 * 1024));
    await fm.barrier();
    // Truncated in place, then grown again past its old size from another start.
    fs.truncateSync(f, 1000);
    fs.appendFileSync(f, randomBytes(100 * 1024));
    await fm.barrier();
    expectSame(f, copies('data'));
    // Rewritten in place (same inode), longer, every byte different.
    const ino = fs.statSync(f).ino;
    fs.writeFileSync(f, randomBytes(200 * 1024));
    expect(fs.statSync(f).ino).toBe(ino);
    await fm.barrier();
    expectSame(f, copies('data'));
    // Replaced by a new inode that starts with the same bytes and is longer (looks like an append, is not one).
    const tmp = path.join(src, 'data.tmp');
    fs.writeFileSync(tmp, Buffer.concat([fs.readFileSync(f), randomBytes(10)]));
    fs.renameSync(tmp, f);
    await fm.barrier();
    expectSame(f, copies('data'));
    // And appends go on after all that.
    fs.appendFileSync(f, 'tail');
    await fm.barrier();
    expectSame(f, copies('data'));
  });

  it('a target whose copy differs from what was sent answers mismatch; the file is copied whole and ends identical', async () => {
    const { fm, src, to, copies, events } = await mirrored();
    const f = path.join(src, 'log');
    fs.writeFileSync(f, 'a'.repeat(10_000));
    await fm.barrier();
    // Behind the mirror's back: the local copy's end is changed, the peer's copy grows.
    const local = path.join(to, src, 'log');
    const fd = fs.openSync(local, 'r+');
    fs.writeSync(fd, 'X', 9_999);
    fs.closeSync(fd);
    fs.appendFileSync(copies('log')[1] as string, 'junk');
    fs.appendFileSync(f, 'b'.repeat(100));
    await fm.barrier();
    expectSame(f, copies('log'));
    expect(events.filter((e) => e.includes('not what was sent')).length).toBe(2);
  });

  it('without appends, every change copies the whole file (the comparison)', async () => {
    const { fm, src, copies, sent } = await mirrored({ appends: false });
    const f = path.join(src, 'big');
    fs.writeFileSync(f, randomBytes(256 * 1024));
    await fm.barrier();
    const before = sent();
    fs.appendFileSync(f, 'x'.repeat(100));
    await fm.barrier();
    expectSame(f, copies('big'));
    for (const [i, after] of sent().entries()) expect(after - (before[i] as number)).toBeGreaterThanOrEqual(256 * 1024);
  });
});
