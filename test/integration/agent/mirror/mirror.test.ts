import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../../common/node/rpc-client.js';
import type { MirrorStatus } from '../../../../common/wire/mirror-wire.js';
import { AgentHarness, canConnect, cli, freePort } from '../../../helpers/agent-harness.js';
import { waitFor } from '../../../helpers/wait.js';

let h: AgentHarness | null = null;
const mounts: string[] = [];
const pids: number[] = [];
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const m of mounts.splice(0)) {
    try {
      // Lazily: a program killed just now may still hold a file open on it.
      execFileSync('umount', ['-l', m]);
    } catch {
      // not mounted
    }
  }
  await h?.dispose();
  h = null;
});

async function mirrors(harness: AgentHarness): Promise<MirrorStatus[]> {
  const r = await cli(['status', '--json', '--state-dir', harness.stateDir]);
  return (JSON.parse(r.stdout) as { mirrors: MirrorStatus[] }).mirrors;
}

const caughtUp = async (harness: AgentHarness) => (await mirrors(harness)).every((m) => m.up && m.pending === 0 && !m.resyncing);

/** Every file under a folder with its contents (the staging folder excluded). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === '.armory-mirror') continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out[r] = fs.readFileSync(path.join(dir, r), 'utf8');
    }
  };
  walk('');
  return out;
}

function mountTmpfs(dir: string, size = '16m'): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
}

/** An agent running one idle service `app` whose folder DIR/data is mirrored to DIR/disk2 (a tmpfs of its own when asked). */
async function sleeperWithMirror(options: { tmpfs: boolean; size?: string; under?: string[] }, extra: string): Promise<{ data: string; disk: string }> {
  const harness = new AgentHarness('');
  h = harness;
  const data = path.join(harness.dir, 'data');
  const disk = path.join(harness.dir, 'disk2');
  fs.mkdirSync(data);
  fs.mkdirSync(disk);
  // Folders left on the bare mount point below where the disk is mounted.
  for (const rel of options.under ?? []) fs.mkdirSync(path.join(disk, rel.replace('DATA', data)), { recursive: true });
  if (options.tmpfs) mountTmpfs(disk, options.size);
  harness.writeConfig(`services:
  app:
    command: /bin/sleep
    args: ["1000"]
    mirror: { folders: [${JSON.stringify(data)}], to: ${JSON.stringify(disk)}, ${extra} }
`);
  await harness.start();
  return { data, disk };
}

describe('file mirroring to a local folder on another disk', () => {
  it("redis-server's data folder is mirrored; a second redis-server started on the copy has the data", async () => {
    h = new AgentHarness('');
    const data = path.join(h.dir, 'redis-data');
    const disk = path.join(h.dir, 'disk2');
    fs.mkdirSync(disk);
    mountTmpfs(disk);
    const port = freePort();
    h.writeConfig(`services:
  redis:
    command: /usr/bin/redis-server
    args: ["--port", "${port}", "--bind", "127.0.0.1", "--dir", ${JSON.stringify(data)}, "--appendonly", "yes", "--save", "", "--daemonize", "no"]
    cwd: /
    mirror: { folders: [${JSON.stringify(data)}], to: ${JSON.stringify(disk)}, lagAlert: 2s }
`);
    fs.mkdirSync(data);
    await h.start();
    await waitFor('redis to accept connections', () => canConnect(port), { timeoutMs: 15_000 });
    for (let i = 0; i < 200; i += 1) execFileSync('redis-cli', ['-p', String(port), 'SET', `key:${i}`, `value ${i}`]);
    execFileSync('redis-cli', ['-p', String(port), 'SAVE']);
    const copy = path.join(disk, data);
    await waitFor('the copy to match', async () => {
      if ((await caughtUp(h as AgentHarness)) && JSON.stringify(tree(copy)) === JSON.stringify(tree(data))) return true;
      throw new Error(JSON.stringify([await mirrors(h as AgentHarness), Object.keys(tree(copy)), Object.keys(tree(data))]));
    }, { timeoutMs: 20_000 });
    expect(Object.keys(tree(copy)).some((f) => f.endsWith('.rdb'))).toBe(true);

    // The copy alone is enough: a server started on it (as after a failover) has every key.
    await cli(['stop', 'redis', '--state-dir', h.stateDir]);
    const port2 = freePort();
    const other = spawn('/usr/bin/redis-server', ['--port', String(port2), '--bind', '127.0.0.1', '--dir', copy, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore' });
    pids.push(other.pid as number);
    await waitFor('redis on the copy', () => canConnect(port2), { timeoutMs: 15_000 });
    await waitFor('the data to be loaded', () => execFileSync('redis-cli', ['-p', String(port2), 'DBSIZE'], { encoding: 'utf8' }).trim() === '200', { timeoutMs: 15_000 });
    expect(execFileSync('redis-cli', ['-p', String(port2), 'GET', 'key:137'], { encoding: 'utf8' }).trim()).toBe('value 137');
    const client = await ControlClient.connect(path.join(h.stateDir, 'agent.sock'));
    const metrics = await client.call('metrics', {});
    client.close();
    expect(metrics.text).toMatch(/armory_mirror_lag_seconds\{service="redis",target="[^"]+"\} 0/);
  });

  it('a target disk that is unmounted and comes back is caught up: writes, deletes and renames made meanwhile; an alert fires past lagAlert', async () => {
    const { data, disk } = await sleeperWithMirror({ tmpfs: true }, 'lagAlert: 300ms');
    if (!h) throw new Error('the agent did not start');
    const copy = path.join(disk, data);
    fs.mkdirSync(path.join(data, 'sub'));
    for (let i = 0; i < 20; i += 1) fs.writeFileSync(path.join(data, `sub/f${i}`), `one ${i}`);
    fs.writeFileSync(path.join(data, 'keep'), 'k');
    fs.symlinkSync('/etc/passwd', path.join(data, 'outside-link'));
    fs.symlinkSync('keep', path.join(data, 'inside-link'));
    await waitFor('the first copy', async () => {
      if ((await caughtUp(h as AgentHarness)) && Object.keys(tree(copy)).length === 21) return true;
      throw new Error(JSON.stringify([await mirrors(h as AgentHarness), Object.keys(tree(copy))]));
    }, { timeoutMs: 15_000 });
    expect(fs.readlinkSync(path.join(copy, 'inside-link'))).toBe('keep');
    expect(fs.existsSync(path.join(copy, 'outside-link'))).toBe(false);
    fs.renameSync(path.join(data, 'sub/f0'), path.join(data, 'sub/renamed'));
    fs.rmSync(path.join(data, 'sub/f1'));
    await waitFor('the rename and delete to follow', () => fs.existsSync(path.join(copy, 'sub/renamed')) && !fs.existsSync(path.join(copy, 'sub/f0')) && !fs.existsSync(path.join(copy, 'sub/f1')));

    // Lazily, as a disk that goes away does: a copy the agent has under way may hold a file open on it.
    execFileSync('umount', ['-l', disk]);
    fs.writeFileSync(path.join(data, 'sub/f2'), 'changed while the disk was away');
    fs.rmSync(path.join(data, 'sub/f3'));
    fs.renameSync(path.join(data, 'sub/f4'), path.join(data, 'sub/f4-moved'));
    fs.writeFileSync(path.join(data, 'new'), 'new file');
    await waitFor('the target to count as down with changes pending', async () => (await mirrors(h as AgentHarness)).some((m) => !m.up && m.pending > 0));
    // Nothing written after the unmount went onto the bare mount point (the root disk).
    expect(fs.existsSync(path.join(disk, data, 'new'))).toBe(false);
    await waitFor('the lag alert', async () => (await (h as AgentHarness).events()).some((e) => e.kind === 'mirror' && e.detail?.alert === true));

    mountTmpfs(disk);
    await waitFor('the copy to be caught up', async () => {
      if ((await caughtUp(h as AgentHarness)) && JSON.stringify(tree(copy)) === JSON.stringify(tree(data))) return true;
      throw new Error(JSON.stringify([await mirrors(h as AgentHarness), Object.keys(tree(copy)), (await (h as AgentHarness).events()).filter((e) => e.kind === 'mirror').map((e) => e.reason)]));
    }, { timeoutMs: 15_000 });
    expect(tree(copy)['sub/f2']).toBe('changed while the disk was away');
    const events = await h.events();
    expect(events.some((e) => /is down/.test(e.reason))).toBe(true);
    expect(events.some((e) => /is back; catching up/.test(e.reason))).toBe(true);
    expect(events.some((e) => e.detail?.code === 'MIRROR_E_SYMLINK_OUTSIDE')).toBe(true);
  });

  it('the scrub finds a copy whose bytes changed behind its back (same size and time) and repairs it from the active side', async () => {
    const { data, disk } = await sleeperWithMirror({ tmpfs: false }, 'scrub: 1s');
    if (!h) throw new Error('the agent did not start');
    fs.writeFileSync(path.join(data, 'db'), 'the right bytes');
    const copy = path.join(disk, data, 'db');
    await waitFor('the copy', () => fs.existsSync(copy) && fs.readFileSync(copy, 'utf8') === 'the right bytes');
    const st = fs.statSync(copy);
    fs.writeFileSync(copy, 'the wrong bytes');
    fs.utimesSync(copy, st.atime, st.mtime);
    await waitFor('the scrub to repair it', () => fs.readFileSync(copy, 'utf8') === 'the right bytes', { timeoutMs: 10_000 });
    expect((await mirrors(h)).find((m) => m.service === 'app')?.repaired).toBeGreaterThanOrEqual(1);
    expect((await h.events()).some((e) => /scrub found 1 entries .* wrong or missing; repairing them/.test(e.reason))).toBe(true);
  });

  it('a disk unmounted while copies are in flight: nothing lands on the bare mount point; remounted, the copy is caught up', async () => {
    // The folder's path exists on the bare mount point too (made before the disk was mounted over it).
    const { data, disk } = await sleeperWithMirror({ tmpfs: true, size: '256m', under: ['DATA/.armory-mirror'] }, 'lagAlert: 1m');
    if (!h) throw new Error('the agent did not start');
    const copy = path.join(disk, data);
    // Many files and a few large ones, each written beside the folder and renamed in whole.
    const outside = path.join(h.dir, 'outside');
    fs.mkdirSync(outside);
    const names = [...Array.from({ length: 2000 }, (_, i) => [`f${i}`, 64] as const), ...Array.from({ length: 2 }, (_, i) => [`big${i}`, 16 * 1024 * 1024] as const)];
    for (const [name, size] of names) {
      fs.writeFileSync(path.join(outside, name), randomBytes(size));
      fs.renameSync(path.join(outside, name), path.join(data, name));
    }
    await waitFor('the copy to be under way', () => fs.existsSync(copy) && fs.readdirSync(copy).length > 20, { timeoutMs: 20_000, everyMs: 5 });
    // Lazily, as a disk that is pulled: files open on it do not hold the unmount back.
    execFileSync('umount', ['-l', disk]);
    for (let i = 0; i < 20; i += 1) fs.writeFileSync(path.join(data, `after${i}`), `written after the unmount ${i}`);
    await waitFor('the target to count as down', async () => (await mirrors(h as AgentHarness)).some((m) => !m.up), { timeoutMs: 20_000 });
    // Down is only reported once every copy in flight has ended.
    const bare = (fs.readdirSync(disk, { recursive: true }) as string[]).sort();
    expect(bare).toEqual(bare.filter((p) => path.join(disk, data, '.armory-mirror').startsWith(path.join(disk, p))));

    mountTmpfs(disk, '256m');
    const digests = (dir: string) => Object.fromEntries(fs.readdirSync(dir).filter((f) => f !== '.armory-mirror').sort().map((f) => [f, createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
    await waitFor('the copy to be caught up', async () => {
      if ((await caughtUp(h as AgentHarness)) && JSON.stringify(digests(copy)) === JSON.stringify(digests(data))) return true;
      throw new Error(JSON.stringify(await mirrors(h as AgentHarness)));
    }, { timeoutMs: 60_000 });
    expect(Object.keys(digests(copy))).toHaveLength(names.length + 20);
  }, 120_000);
});
