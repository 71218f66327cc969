import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderMirror } from '../../../../agent/mirror/folder-mirror.js';
import { LocalTarget } from '../../../../agent/mirror/mirror-target.js';
import type { ArmoryError } from '../../../../common/errors/armory-error.js';
import { mirroredToLocalAndPeer } from '../../../helpers/mirror-peer.js';
import { seededRandom } from '../../../helpers/seeded-random.js';
import { waitFor, within } from '../../../helpers/wait.js';

const dirs: string[] = [];
const mirrors: FolderMirror[] = [];
afterEach(async () => {
  for (const m of mirrors.splice(0)) await m.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A folder `src` mirrored to local folders under the test's directory (`to` made unless asked not to). */
async function mirrored(options: { targets?: number; missing?: number[]; settleMs?: number } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-fm-'));
  dirs.push(dir);
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  const tos = Array.from({ length: options.targets ?? 1 }, (_, i) => path.join(dir, `to${i}`));
  tos.forEach((to, i) => options.missing?.includes(i) || fs.mkdirSync(to));
  const events: string[] = [];
  const fm = new FolderMirror({
    service: 'svc',
    folder: src,
    targets: tos.map((to) => new LocalTarget(to, src)),
    lagAlertMs: 60_000,
    scrubMs: 3_600_000,
    ...(options.settleMs !== undefined ? { settleMs: options.settleMs } : {}),
    event: (reason) => events.push(reason),
  });
  mirrors.push(fm);
  await fm.start();
  const copy = (i: number, rel: string) => path.join(tos[i] as string, src, rel);
  return { fm, src, tos, copy, events };
}

/** Whether a promise settled (without waiting for it). */
function track(p: Promise<void>) {
  const state: { settled: boolean; error: unknown } = { settled: false, error: null };
  p.then(
    () => (state.settled = true),
    (e: unknown) => {
      state.settled = true;
      state.error = e;
    },
  );
  return state;
}

describe('the mirror barrier', () => {
  it('resolves once what was written before it is on the target', async () => {
    const { fm, src, copy } = await mirrored();
    await fm.barrier();
    for (let i = 0; i < 20; i += 1) fs.appendFileSync(path.join(src, 'log'), `entry ${i}\n`);
    fs.mkdirSync(path.join(src, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a/b/deep'), 'deep');
    await fm.barrier();
    expect(fs.readFileSync(copy(0, 'log'), 'utf8')).toBe(fs.readFileSync(path.join(src, 'log'), 'utf8'));
    expect(fs.readFileSync(copy(0, 'a/b/deep'), 'utf8')).toBe('deep');
  });

  it('includes a write the watcher has not reported yet (written in the same tick, settle delay of a minute)', async () => {
    // With a minute of settling, only the barrier's own look can bring these over in time.
    const { fm, src, copy } = await mirrored({ settleMs: 60_000 });
    fs.writeFileSync(path.join(src, 'old'), 'old');
    fs.writeFileSync(path.join(src, 'gone'), 'x');
    await fm.barrier();
    expect(fs.existsSync(copy(0, 'gone'))).toBe(true);
    for (let round = 0; round < 20; round += 1) {
      fs.appendFileSync(path.join(src, 'old'), `+${round}`);
      fs.writeFileSync(path.join(src, `new-${round}`), `n${round}`);
      fs.mkdirSync(path.join(src, `d${round}`));
      fs.writeFileSync(path.join(src, `d${round}`, 'f'), `in d${round}`);
      if (round === 10) fs.rmSync(path.join(src, 'gone'));
      if (round === 12) fs.renameSync(path.join(src, 'new-0'), path.join(src, 'renamed'));
      await fm.barrier();
      expect(fs.readFileSync(copy(0, 'old'), 'utf8')).toBe(fs.readFileSync(path.join(src, 'old'), 'utf8'));
      expect(fs.readFileSync(copy(0, `d${round}/f`), 'utf8')).toBe(`in d${round}`);
      expect(fs.readFileSync(copy(0, round >= 12 ? 'renamed' : 'new-0'), 'utf8')).toBe('n0');
      expect(fs.existsSync(copy(0, 'gone'))).toBe(round < 10);
    }
    expect(fs.existsSync(copy(0, 'new-0'))).toBe(false);
  });

  it('barriers called together all resolve, each with the writes made before it', async () => {
    const { fm, src, copy } = await mirrored({ settleMs: 60_000 });
    const waits: Promise<number>[] = [];
    for (let i = 0; i < 50; i += 1) {
      fs.writeFileSync(path.join(src, `f${i}`), `v${i}`);
      waits.push(fm.barrier().then(() => i));
    }
    for (const i of await Promise.all(waits)) expect(fs.readFileSync(copy(0, `f${i}`), 'utf8')).toBe(`v${i}`);
  });

  it('with the only target down, holds until it is back and has the writes', async () => {
    const { fm, src, tos, copy } = await mirrored({ missing: [0] });
    await waitFor('the target to be down', () => fm.status()[0]?.up === false);
    fs.writeFileSync(path.join(src, 'precious'), 'acknowledged');
    const b = track(fm.barrier());
    // Down stays down: it is probed again and again, and the barrier keeps waiting.
    await waitFor('the target to be probed again', () => fm.status()[0]?.pending === 1 && fm.status()[0]?.up === false);
    await new Promise((r) => setTimeout(r, 1200));
    expect(b.settled).toBe(false);
    fs.mkdirSync(tos[0] as string);
    await waitFor('the barrier to resolve', () => b.settled, { timeoutMs: 10_000 });
    expect(b.error).toBeNull();
    expect(fs.readFileSync(copy(0, 'precious'), 'utf8')).toBe('acknowledged');
  });

  it('stops waiting for a target that is down while another one is up', async () => {
    const { fm, src, copy } = await mirrored({ targets: 2, missing: [1] });
    fs.writeFileSync(path.join(src, 'f'), 'data');
    await fm.barrier();
    expect(fs.readFileSync(copy(0, 'f'), 'utf8')).toBe('data');
    expect(fm.status().map((s) => s.up)).toEqual([true, false]);
  });

  it('a standby whose group heartbeats fall silent stops holding barriers at once (its link hangs: calls would time out only after 10 s), and is counted as lagging', async () => {
    let silent = false;
    const { fm, src, to, peerCopy, peer, close } = await mirroredToLocalAndPeer({ peerSilent: (node) => node === 'n2' && silent });
    try {
      fs.writeFileSync(path.join(src, 'f'), 'one');
      await fm.barrier();
      expect(fs.readFileSync(path.join(peerCopy, 'f'), 'utf8')).toBe('one');
      peer.freeze();
      fs.writeFileSync(path.join(src, 'f'), 'two');
      const b = track(fm.barrier());
      await new Promise((r) => setTimeout(r, 500));
      // The standby's link hangs and its heartbeats still come: the barrier waits for it.
      expect(b.settled).toBe(false);
      silent = true;
      await waitFor('the barrier to let go of the silent standby', () => b.settled, { timeoutMs: 2000, everyMs: 10 });
      expect(b.error).toBeNull();
      expect(fs.readFileSync(path.join(to, src, 'f'), 'utf8')).toBe('two');
      expect(fm.status().map((s) => s.up)).toEqual([true, false]);
      expect(fm.laggingNodes()).toEqual(['n2']);
      // Heard again and reachable: it catches up and no longer lags.
      silent = false;
      peer.thaw();
      await waitFor('the standby to catch up', () => fm.laggingNodes().length === 0 && fs.readFileSync(path.join(peerCopy, 'f'), 'utf8') === 'two', { timeoutMs: 20_000, everyMs: 50 });
    } finally {
      await close();
    }
  }, 30_000);

  it('a standby whose disk is full stops holding barriers and is counted as lagging; it catches up once the disk has room', async () => {
    const { fm, src, to, peerCopy, close, events } = await mirroredToLocalAndPeer();
    fs.mkdirSync(peerCopy, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', peerCopy]);
    try {
      fs.writeFileSync(path.join(src, 'small'), 'one');
      await fm.barrier();
      expect(fs.readFileSync(path.join(peerCopy, 'small'), 'utf8')).toBe('one');
      // The standby's disk fills up: a 200 KB file cannot be written there.
      fs.writeFileSync(path.join(peerCopy, 'filler'), Buffer.alloc(400 * 1024));
      fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(200 * 1024, 1));
      const b = track(fm.barrier());
      await waitFor('the barrier to let go of the full standby', () => b.settled, { timeoutMs: 5000, everyMs: 10 });
      expect(b.error).toBeNull();
      // Nothing cut short was put in place of the file on the standby.
      expect(fs.existsSync(path.join(peerCopy, 'big'))).toBe(false);
      expect(fs.statSync(path.join(to, src, 'big')).size).toBe(200 * 1024);
      expect(fm.laggingNodes()).toEqual(['n2']);
      expect(fm.status()[1]?.lastError).toMatch(/ENOSPC|no space/i);
      // Room again: it is tried again (after a short backoff) and catches up.
      fs.rmSync(path.join(peerCopy, 'filler'));
      const caughtUp = () => fm.laggingNodes().length === 0 && fs.existsSync(path.join(peerCopy, 'big')) && fs.statSync(path.join(peerCopy, 'big')).size === 200 * 1024;
      await waitFor('the standby to catch up', () => caughtUp() || Promise.reject(new Error(JSON.stringify({ status: fm.status()[1], events }))), { timeoutMs: 20_000, everyMs: 50 });
      expect(fs.readFileSync(path.join(peerCopy, 'big')).equals(fs.readFileSync(path.join(src, 'big')))).toBe(true);
    } finally {
      execFileSync('umount', ['-l', peerCopy]);
      await close();
    }
  }, 30_000);

  it('a file renamed over without pause by shorter and longer versions (as redis replaces its AOF manifest): every barrier returns, the copy ends as the last version', async () => {
    const { fm, src, copy } = await mirrored({ settleMs: 0 });
    const file = path.join(src, 'manifest');
    fs.writeFileSync(file, 'first');
    await fm.barrier();
    // Another process replaces the file for 1.5 s, its size going 3 → 20,000 → 3 bytes…: a copy
    // that looked at one version and opened the next finds it shorter than it looked.
    const writer = spawn(
      process.execPath,
      ['-e', `const fs = require('fs'); const end = Date.now() + 1500; for (let i = 0; Date.now() < end; i += 1) { fs.writeFileSync(${JSON.stringify(`${file}.tmp`)}, (i % 2 ? 'y' : 'x').repeat(i % 2 ? 20000 : 3)); fs.renameSync(${JSON.stringify(`${file}.tmp`)}, ${JSON.stringify(file)}); }`],
      { stdio: 'ignore' },
    );
    const exited = new Promise((r) => writer.once('exit', r));
    let barriers = 0;
    for (let done = false; !done && barriers < 10_000; barriers += 1) {
      void exited.then(() => (done = true));
      await within(5000, `barrier ${barriers + 1} while the file is replaced`, fm.barrier(), () => fm.status());
    }
    await exited;
    await within(5000, 'the barrier after the last version', fm.barrier(), () => fm.status());
    expect(barriers).toBeGreaterThan(1);
    expect(fs.readFileSync(copy(0, 'manifest'), 'utf8')).toBe(fs.readFileSync(file, 'utf8'));
  });

  it('close() rejects the barriers still waiting, and later ones, with MIRROR_E_CLOSED', async () => {
    const { fm, src } = await mirrored({ missing: [0] });
    fs.writeFileSync(path.join(src, 'f'), 'data');
    const b = fm.barrier();
    const settled = track(b);
    await waitFor('the target to be down', () => fm.status()[0]?.up === false);
    expect(settled.settled).toBe(false);
    await fm.close();
    await expect(b).rejects.toMatchObject({ code: 'MIRROR_E_CLOSED' });
    await expect(fm.barrier()).rejects.toMatchObject({ code: 'MIRROR_E_CLOSED' } satisfies Partial<ArmoryError>);
  });

  it('random writes, appends, truncations, renames, new folders and removals: after every barrier both copies equal the folder', async () => {
    // Settling for a minute: what reaches the copies in time is what the barrier found itself.
    const { fm, src, to, peerCopy, close } = await mirroredToLocalAndPeer({ settleMs: 60_000 });
    try {
      for (const seed of [1, 2, 3]) {
        const rnd = seededRandom(seed);
        const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
        const files = () => (fs.readdirSync(src, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(src, f)).isFile());
        const folders = () => ['', ...(fs.readdirSync(src, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(src, f)).isDirectory())];
        for (let step = 0; step < 30; step += 1) {
          for (let n = 1 + Math.floor(rnd() * 4); n > 0; n -= 1) {
            const existing = files();
            const op = existing.length === 0 ? 'write' : pick(['write', 'append', 'append', 'append', 'truncate', 'rename', 'mkdir', 'remove', 'rmdir']);
            const bytes = Buffer.alloc(1 + Math.floor(rnd() * 9000), Math.floor(rnd() * 256));
            if (op === 'write') fs.writeFileSync(path.join(src, pick(folders()), `f${Math.floor(rnd() * 1000)}`), bytes);
            else if (op === 'append') fs.appendFileSync(path.join(src, pick(existing)), bytes);
            else if (op === 'truncate') fs.truncateSync(path.join(src, pick(existing)), Math.floor(rnd() * 100));
            else if (op === 'rename') fs.renameSync(path.join(src, pick(existing)), path.join(src, pick(folders()), `r${Math.floor(rnd() * 1000)}`));
            else if (op === 'mkdir') fs.mkdirSync(path.join(src, pick(folders()), `d${Math.floor(rnd() * 100)}`), { recursive: true });
            else if (op === 'remove') fs.rmSync(path.join(src, pick(existing)));
            else {
              const d = pick(folders());
              if (d !== '') fs.rmSync(path.join(src, d), { recursive: true });
            }
          }
          await fm.barrier();
          const want = tree(src);
          expect(tree(path.join(to, src)), `seed ${seed} step ${step} (local)`).toEqual(want);
          expect(tree(peerCopy), `seed ${seed} step ${step} (peer)`).toEqual(want);
        }
      }
    } finally {
      await close();
    }
  });
});

/** Every folder and file under `root` (the staging folder left out), files with a hash of their bytes. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of (fs.readdirSync(root, { recursive: true }) as string[]).sort()) {
    if (rel === '.armory-mirror' || rel.startsWith('.armory-mirror/')) continue;
    const st = fs.lstatSync(path.join(root, rel));
    out[rel] = st.isDirectory() ? 'dir' : `${st.size}:${createHash('sha256').update(fs.readFileSync(path.join(root, rel))).digest('hex').slice(0, 16)}`;
  }
  return out;
}
