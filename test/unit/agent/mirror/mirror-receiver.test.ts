import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { insideRoot, linkStaysInside, MirrorReceiver } from '../../../../agent/mirror/mirror-receiver.js';
import { ArmoryError } from '../../../../common/errors/armory-error.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function receiver() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-recv-'));
  dirs.push(dir);
  return new MirrorReceiver(dir);
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the mirror receiver', () => {
  it('never resolves a path outside its root', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.array(fc.constantFrom('a', '..', '.', '', '..a', 'b/'), { maxLength: 6 }).map((xs) => xs.join('/'))), (rel) => {
        let p: string | null = null;
        try {
          p = insideRoot('/r', rel);
        } catch (e) {
          expect((e as ArmoryError).code).toBe('MIRROR_E_PATH');
        }
        if (p !== null) {
          expect(p.startsWith('/r/')).toBe(true);
          expect(path.relative('/r', p).split('/')).not.toContain('..');
        }
      }),
      { numRuns: 3000 },
    );
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a//b', './a', '.armory-mirror/x', 'a\0b', '']) expect(() => insideRoot('/r', bad)).toThrow(ArmoryError);
  });

  it('tells links that stay inside from links that leave', () => {
    expect(linkStaysInside('a/b', 'c')).toBe(true);
    expect(linkStaysInside('a/b', '../c')).toBe(true);
    expect(linkStaysInside('a/b', '../../c')).toBe(false);
    expect(linkStaysInside('a', '/etc/passwd')).toBe(false);
  });

  it('puts a file in chunks, resumes at the staged offset, checks the checksum and renames it into place', async () => {
    const r = receiver();
    const data = Buffer.from('0123456789abcdefghij');
    const final = { sha256: sha(data), mode: 0o640, mtimeMs: 1_700_000_000_000 };
    expect(await r.apply({ kind: 'put', rel: 'd/f', version: 'v1', offset: 0, total: 20, data: data.subarray(0, 8) })).toEqual({ have: 8 });
    // A break: the sender comes back at offset 0; told what is staged, it resumes there.
    expect(await r.apply({ kind: 'put', rel: 'd/f', version: 'v1', offset: 0, total: 20, data: data.subarray(0, 8) })).toEqual({ have: 8 });
    expect(fs.existsSync(path.join(r.root, 'd/f'))).toBe(false);
    expect(await r.apply({ kind: 'put', rel: 'd/f', version: 'v1', offset: 8, total: 20, data: data.subarray(8), final })).toEqual({ have: 20 });
    expect(fs.readFileSync(path.join(r.root, 'd/f'))).toEqual(data);
    const st = fs.statSync(path.join(r.root, 'd/f'));
    expect(st.mode & 0o777).toBe(0o640);
    expect(Math.round(st.mtimeMs)).toBe(final.mtimeMs);
    // A wrong checksum is refused and nothing replaces the good copy.
    await expect(r.apply({ kind: 'put', rel: 'd/f', version: 'v2', offset: 0, total: 3, data: Buffer.from('bad'), final })).rejects.toMatchObject({ code: 'MIRROR_E_CHECKSUM' });
    expect(fs.readFileSync(path.join(r.root, 'd/f'))).toEqual(data);
  });

  it('follows renames and deletes and never writes through a symbolic link', async () => {
    const r = receiver();
    const data = Buffer.from('x');
    await r.apply({ kind: 'put', rel: 'a', version: 'v', offset: 0, total: 1, data, final: { sha256: sha(data), mode: 0o644, mtimeMs: Date.now() } });
    await r.apply({ kind: 'rename', from: 'a', to: 'sub/b' });
    expect(fs.readFileSync(path.join(r.root, 'sub/b'), 'utf8')).toBe('x');
    await r.apply({ kind: 'remove', rel: 'sub' });
    expect(fs.existsSync(path.join(r.root, 'sub'))).toBe(false);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-outside-'));
    dirs.push(outside);
    fs.symlinkSync(outside, path.join(r.root, 'link'));
    await expect(r.apply({ kind: 'put', rel: 'link/evil', version: 'v', offset: 0, total: 1, data, final: { sha256: sha(data), mode: 0o644, mtimeMs: 0 } })).rejects.toMatchObject({ code: 'MIRROR_E_SYMLINK_OUTSIDE' });
    await expect(r.apply({ kind: 'symlink', rel: 'l2', target: '../../etc' })).rejects.toMatchObject({ code: 'MIRROR_E_SYMLINK_OUTSIDE' });
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('with a device guard, writes nothing off the guarded disk: a root that is not on it refuses every change as TARGET_DOWN', async () => {
    const r = receiver();
    const dev = fs.statSync(r.root).dev;
    const data = Buffer.from('payload');
    const final = { sha256: sha(data), mode: 0o644, mtimeMs: Date.now() };
    // On the right disk, the guard changes nothing.
    expect(await r.apply({ kind: 'put', rel: 'ok/f', version: 'v', offset: 0, total: data.length, data, final }, { dev })).toEqual({ have: data.length });
    // (An empty staging folder found off the disk may be taken away; nothing else changes.)
    const entries = () => (fs.readdirSync(r.root, { recursive: true }) as string[]).filter((e) => e !== '.armory-mirror').sort();
    const before = entries();
    // The disk "went away": what is at the root now is another device.
    const other = { dev: dev + 1 };
    for (const op of [
      { kind: 'put', rel: 'new/f', version: 'v', offset: 0, total: data.length, data, final },
      { kind: 'mkdir', rel: 'd' },
      { kind: 'symlink', rel: 'l', target: 'ok/f' },
      { kind: 'rename', from: 'ok/f', to: 'moved' },
      { kind: 'remove', rel: 'ok' },
    ] as const) {
      await expect(r.apply(op, other)).rejects.toMatchObject({ code: 'MIRROR_E_TARGET_DOWN' });
    }
    expect(entries()).toEqual(before);
    // A root that is gone is never created again below it.
    const gone = new MirrorReceiver(path.join(r.root, 'missing/root'));
    await expect(gone.apply({ kind: 'put', rel: 'f', version: 'v', offset: 0, total: data.length, data, final }, { dev })).rejects.toMatchObject({ code: 'MIRROR_E_TARGET_DOWN' });
    expect(fs.existsSync(path.join(r.root, 'missing'))).toBe(false);
  });

  it('applies the chunks of one file one at a time: the same chunk arriving twice at once is staged once', async () => {
    const r = receiver();
    const data = Buffer.alloc(64 * 1024, 7);
    const put = (offset: number, len: number, final?: { sha256: string; mode: number; mtimeMs: number }) =>
      r.apply({ kind: 'put', rel: 'f', version: 'v', offset, total: data.length, data: data.subarray(offset, offset + len), ...(final ? { final } : {}) });
    // A chunk still arriving on a dropped connection and the same chunk resent on the new one.
    const answers = await Promise.all([put(0, 32 * 1024), put(0, 32 * 1024), put(0, 32 * 1024)]);
    expect(answers.map((a) => a.have).sort()).toEqual([32 * 1024, 32 * 1024, 32 * 1024]);
    expect(await put(32 * 1024, 32 * 1024, { sha256: sha(data), mode: 0o644, mtimeMs: Date.now() })).toEqual({ have: data.length });
    expect(fs.readFileSync(path.join(r.root, 'f'))).toEqual(data);
  });

  it('appends in place only onto a copy of the expected size and end; anything else is answered mismatch', async () => {
    const r = receiver();
    const data = Buffer.from('0123456789');
    await r.apply({ kind: 'put', rel: 'd/log', version: 'v', offset: 0, total: 10, data, final: { sha256: sha(data), mode: 0o640, mtimeMs: 1_700_000_000_000 } });
    const file = path.join(r.root, 'd/log');
    const ino = fs.statSync(file).ino;
    const append = (offset: number, base: string, bytes: string, final = true) =>
      r.apply({ kind: 'append', rel: 'd/log', offset, base, data: Buffer.from(bytes), ...(final ? { final: { size: offset + bytes.length, mode: 0o640, mtimeMs: 1_700_000_001_000 } } : {}) });
    expect(await append(10, sha(data), 'abc')).toEqual({ have: 13 });
    expect(fs.readFileSync(file, 'utf8')).toBe('0123456789abc');
    expect(fs.statSync(file).ino).toBe(ino);
    expect(Math.round(fs.statSync(file).mtimeMs)).toBe(1_700_000_001_000);
    // Wrong size, wrong end, a file that is not there: nothing written, the sender is told.
    expect(await append(10, sha(data), 'zzz')).toEqual({ have: 13, mismatch: true });
    expect(await append(13, sha(Buffer.from('something else')), 'zzz')).toEqual({ have: 13, mismatch: true });
    expect(await r.apply({ kind: 'append', rel: 'missing/f', offset: 0, base: sha(Buffer.alloc(0)), data: Buffer.from('x') })).toEqual({ have: 0, mismatch: true });
    expect(fs.readFileSync(file, 'utf8')).toBe('0123456789abc');
    // Chunks without `final`, then the last one; the base is always the last ≤ 4 KiB before the offset.
    const big = Buffer.alloc(10_000, 1);
    expect(await append(13, sha(Buffer.from('0123456789abc')), big.toString('latin1'), false)).toEqual({ have: 10_013 });
    const all = fs.readFileSync(file);
    expect(await append(10_013, sha(all.subarray(all.length - 4096)), 'end')).toEqual({ have: 10_016 });
    expect(fs.readFileSync(file).subarray(-3).toString()).toBe('end');
    // A final size that does not add up is a bad request, not a guess.
    await expect(r.apply({ kind: 'append', rel: 'd/log', offset: 10_016, base: sha(fs.readFileSync(file).subarray(-4096)), data: Buffer.from('x'), final: { size: 5, mode: 0o640, mtimeMs: 0 } })).rejects.toMatchObject({ code: 'RPC_E_BAD_PARAMS' });
  });

  it('never appends through a symbolic link, nor off the guarded disk', async () => {
    const r = receiver();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-outside-'));
    dirs.push(outside);
    fs.writeFileSync(path.join(outside, 'f'), 'x');
    fs.symlinkSync(outside, path.join(r.root, 'dirlink'));
    fs.symlinkSync(path.join(outside, 'f'), path.join(r.root, 'filelink'));
    const op = (rel: string) => ({ kind: 'append' as const, rel, offset: 1, base: sha(Buffer.from('x')), data: Buffer.from('evil') });
    await expect(r.apply(op('dirlink/f'))).rejects.toMatchObject({ code: 'MIRROR_E_SYMLINK_OUTSIDE' });
    expect(await r.apply(op('filelink'))).toEqual({ have: 0, mismatch: true });
    expect(fs.readFileSync(path.join(outside, 'f'), 'utf8')).toBe('x');
    fs.writeFileSync(path.join(r.root, 'g'), 'x');
    const dev = fs.statSync(r.root).dev;
    await expect(r.apply(op('g'), { dev: dev + 1 })).rejects.toMatchObject({ code: 'MIRROR_E_TARGET_DOWN' });
    expect(fs.readFileSync(path.join(r.root, 'g'), 'utf8')).toBe('x');
    expect(await r.apply(op('g'), { dev })).toEqual({ have: 5 });
  });
});
