import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manager } from '../../main/core/manager.js';
import { newestCheckpointCount } from '../helpers/checkpoint-files.js';
import { standUpAgent } from '../helpers/cluster-agents.js';
import { TestNetwork } from '../helpers/netns.js';
import { waitFor } from '../helpers/wait.js';

const COUNTER = path.resolve(import.meta.dirname, '../fixtures/checkpoint-counter.js');
const net = new TestNetwork();
let home = '';
let manager: Manager;
/** The same path on both hosts; each host's agent and programs see their own folder there. */
let data = '';
const hostData = (h: string) => path.join(home, 'hosts', h, 'data');
const stateDir = (h: string) => path.join(home, 'hosts', h, 'var-lib-armory');

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-state-'));
  data = path.join(home, 'data');
  for (const d of [data, hostData('h1'), hostData('h2')]) fs.mkdirSync(d, { recursive: true });
  manager = new Manager({ ARMORY_HOME: path.join(home, 'manager') });
  await manager.open();
  net.up(['h1', 'h2']);
  await Promise.all(['h1', 'h2'].map((h) => standUpAgent(manager, net, home, h, { binds: [[hostData(h), data]] })));
}, 60_000);

afterAll(() => {
  manager?.close();
  net.down();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

const config = (order: string) => `nodes:
  h1: { address: ${net.host('h1').address} }
  h2: { address: ${net.host('h2').address} }
services:
  counter:
    command: ${process.execPath}
    args: [${JSON.stringify(COUNTER)}, ${JSON.stringify(path.join(data, 'counter'))}, ${JSON.stringify(path.join(home, 'starts.log'))}]
    placement: { nodes: [${order}] }
    checkpoint: { keep: 3 }
    mirror: { folders: [${JSON.stringify(path.join(data, 'counter'))}] }
  redis:
    command: /usr/bin/redis-server
    args: ["--port", "6390", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", ${JSON.stringify(path.join(data, 'redis'))}, "--appendonly", "yes", "--save", "", "--daemonize", "no"]
    placement: { nodes: [${order}] }
    mirror: { folders: [${JSON.stringify(path.join(data, 'redis'))}] }
`;

const redis = (host: string, ...args: string[]) => execFileSync('redis-cli', ['-h', net.host(host).address, '-p', '6390', ...args], { encoding: 'utf8' }).trim();

const newestCheckpoint = (h: string) => newestCheckpointCount(stateDir(h), 'counter');

describe('state follows a service to its standby (network-namespace hosts, mutual TLS between agents)', () => {
  it('checkpoints and mirrored folders reach the standby; started there, the counter continues from its last checkpoint and redis has its data', async () => {
    const r = await manager.apply(config('h1, h2'));
    expect(r.pushed.every((p) => p.ok)).toBe(true);
    await waitFor('redis on h1', async () => {
      try {
        const pong = redis('h1', 'PING');
        if (pong !== 'PONG') throw new Error(pong);
        return true;
      } catch {
        await manager.collectEvents('h1');
        throw new Error(JSON.stringify(manager.readEvents({ node: 'h1' }).map((e) => e.reason).slice(-8)));
      }
    }, { timeoutMs: 20_000 });
    for (let i = 0; i < 100; i += 1) redis('h1', 'SET', `k${i}`, `v${i}`);
    await waitFor('checkpoints on the standby', () => (newestCheckpoint('h2') ?? 0) > 30, { timeoutMs: 20_000 });
    await waitFor('the counter folder on the standby', () => fs.existsSync(path.join(hostData('h2'), 'counter/count')));
    await waitFor('redis\'s append-only file on the standby', () => {
      const dir = path.join(hostData('h2'), 'redis/appendonlydir');
      return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.includes('.incr.aof') && fs.readFileSync(path.join(dir, f), 'utf8').includes('k99'));
    }, { timeoutMs: 20_000 });
    // The standby's copy is its own: the active node's folder is another one.
    expect(fs.readFileSync(path.join(hostData('h1'), 'counter/count'), 'utf8')).not.toBe('');

    // h1 fails (cut off); the service is placed on h2 (what failover will do), which starts it on its copies.
    net.link('h1', 'down');
    const replicated = newestCheckpoint('h2') as number;
    const moved = await manager.apply(config('h2, h1'));
    expect(moved.pushed.find((p) => p.node === 'h2')?.ok).toBe(true);
    await waitFor('the counter to start on h2', () => fs.readFileSync(path.join(home, 'starts.log'), 'utf8').trim().split('\n').length === 2, { timeoutMs: 20_000 });
    const starts = fs.readFileSync(path.join(home, 'starts.log'), 'utf8').trim().split('\n').map(Number);
    expect(starts[0]).toBe(0);
    expect(starts[1]).toBeGreaterThanOrEqual(replicated);
    await waitFor('the counter to go on on h2', () => Number(fs.readFileSync(path.join(hostData('h2'), 'counter/count'), 'utf8')) > (starts[1] as number));
    await waitFor('redis on h2 with the data', () => {
      try {
        return redis('h2', 'DBSIZE') === '100' && redis('h2', 'GET', 'k42') === 'v42';
      } catch {
        return false;
      }
    }, { timeoutMs: 20_000 });
    await manager.collectEvents('h2');
    const events = manager.readEvents({ node: 'h2', service: 'counter' });
    expect(events.some((e) => /loaded checkpoint \d+ \(epoch 0, .* from h1\) saved/.test(e.reason))).toBe(true);
  });
});
