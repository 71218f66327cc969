import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MirrorStatus } from '../../common/wire/mirror-wire.js';
import type { Manager } from '../../main/core/manager.js';
import { newestCheckpointCount } from '../helpers/checkpoint-files.js';
import { agentDir, agentPid } from '../helpers/cluster-agents.js';
import { FailoverBed } from '../helpers/failover-cluster.js';
import { waitFor } from '../helpers/wait.js';

/**
 * State across a real failover takeover: a group of three nodes in network namespaces carrying a
 * counter that checkpoints and a redis-server whose data folder is mirrored, with a virtual IP;
 * the active node is killed or cut off and the standby that takes over goes on from the state it
 * received. And a large mirrored file whose transfer to a standby is cut by a link that goes down.
 */
const COUNTER = path.resolve(import.meta.dirname, '../fixtures/checkpoint-counter.js');
const MEMBERS = ['h1', 'h2', 'h3'] as const;
const bed = new FailoverBed(MEMBERS);
/** The same path on every host; each host's agent and programs see their own folder there. */
const data = path.join(bed.home, 'data');
const hostData = (h: string) => path.join(bed.home, 'hosts', h, 'data');
const startsLog = path.join(bed.home, 'starts.log');
let manager: Manager;

const config = () => `nodes:
${MEMBERS.map((h) => `  ${h}: { address: ${bed.net.host(h).address} }`).join('\n')}
services:
  counter:
    command: ${process.execPath}
    args: [${JSON.stringify(COUNTER)}, ${JSON.stringify(path.join(data, 'counter'))}, ${JSON.stringify(startsLog)}]
    placement: { nodes: [h1, h2, h3] }
    checkpoint: { keep: 3 }
  redis:
    command: /usr/bin/redis-server
    args: ["--port", "6390", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", ${JSON.stringify(path.join(data, 'redis'))}, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"]
    stop: { grace: 2s }
    placement: { nodes: [h1, h2, h3] }
    vip: { address: ${bed.vip}/24, interface: eth0 }
    mirror: { folders: [${JSON.stringify(path.join(data, 'redis'))}] }
  bulk:
    command: /bin/sleep
    args: ["36000"]
    placement: { nodes: [h2, h3] }
    mirror: { folders: [${JSON.stringify(path.join(data, 'bulk'))}] }
groups:
  g:
    members: [{ node: h1, priority: 200 }, { node: h2, priority: 150 }, { node: h3, priority: 100 }]
    services: [counter, redis]
`;

/** redis-cli from the client's namespace, through the virtual IP; commands on stdin when given. */
const viaVip = (args: string[], input?: string) =>
  execFileSync('ip', ['netns', 'exec', bed.net.host('client').netns, 'redis-cli', '-h', bed.vip, '-p', '6390', ...args], { encoding: 'utf8', timeout: 5000, stdio: 'pipe', ...(input !== undefined ? { input } : {}) }).trim();

function programPid(host: string, service: string): number | null {
  const s = JSON.parse(fs.readFileSync(path.join(agentDir(bed.home, host), 'state.json'), 'utf8')) as { services: Record<string, { pid: number | null }> };
  return s.services[service]?.pid ?? null;
}

async function mirrorsOf(node: string): Promise<MirrorStatus[]> {
  const c = await manager.connect(node);
  try {
    return (await c.call('status')).mirrors ?? [];
  } finally {
    c.close();
  }
}

async function eventsOf(node: string, service: string) {
  await manager.collectEvents(node);
  return manager.readEvents({ node, service });
}

const starts = () => (fs.existsSync(startsLog) ? fs.readFileSync(startsLog, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []);
const countOn = (h: string) => Number(fs.readFileSync(path.join(hostData(h), 'counter/count'), 'utf8'));

/** The one host holding the VIP (other than `not`), once there is exactly one and redis answers through it. */
async function settledHolder(timeoutMs = 30_000, not?: string): Promise<string> {
  return waitFor(
    'exactly one holder of the VIP, with redis answering through it',
    () => {
      const h = bed.sampler.holders();
      if (h.length !== 1 || h[0] === not) throw new Error(`holders [${h.join(', ')}]`);
      if (viaVip(['PING']) !== 'PONG') throw new Error('no PONG');
      return h[0];
    },
    { timeoutMs, everyMs: 100 },
  );
}

beforeAll(async () => {
  for (const h of MEMBERS) for (const d of ['', 'counter', 'redis', 'bulk']) fs.mkdirSync(path.join(hostData(h), d), { recursive: true });
  fs.mkdirSync(data, { recursive: true });
  bed.up(10, 50, { httpClient: false });
  await bed.standUpArmory({ binds: (h) => [[hostData(h), data]] });
  manager = bed.manager as Manager;
  const r = await manager.apply(config());
  expect(r.pushed.every((p) => p.ok)).toBe(true);
}, 120_000);

afterAll(() => {
  bed.down();
});

describe('state across a failover takeover (3 nodes in network namespaces, a VIP, a client in a fourth)', () => {
  it('a large mirrored file whose transfer to the standby is cut by its link going down resumes where it broke; the copy is byte for byte the source', async () => {
    // bulk is placed on h2 (active) and h3 (standby): its folder is mirrored from h2 to h3.
    const size = 256 * 1024 * 1024;
    const source = path.join(hostData('h2'), 'bulk/big.bin');
    const staging = path.join(hostData('h3'), 'bulk/.armory-mirror');
    const beside = path.join(hostData('h2'), 'big.tmp');
    const hash = createHash('sha256');
    const fd = fs.openSync(beside, 'w');
    try {
      for (let at = 0; at < size; at += 16 * 1024 * 1024) {
        const chunk = randomBytes(16 * 1024 * 1024);
        hash.update(chunk);
        fs.writeSync(fd, chunk);
      }
    } finally {
      fs.closeSync(fd);
    }
    const sum = hash.digest('hex');
    // Written beside the folder and renamed in: the mirror sees one settled file.
    fs.renameSync(beside, source);
    const staged = () => {
      const part = fs.existsSync(staging) ? fs.readdirSync(staging).find((f) => f.endsWith('.part')) : undefined;
      return part ? (fs.statSync(path.join(staging, part), { throwIfNoEntry: false })?.size ?? 0) : 0;
    };
    await waitFor('a fifth of the file on the standby', () => staged() >= size / 5, { timeoutMs: 120_000, everyMs: 10 });
    bed.net.link('h3', 'down');
    const stagedAtBreak = staged();
    expect(stagedAtBreak).toBeLessThan(size);
    try {
      await waitFor('the active side to count the standby as down', async () => (await mirrorsOf('h2')).some((m) => m.service === 'bulk' && !m.up), { timeoutMs: 30_000, everyMs: 200 });
    } finally {
      bed.net.link('h3', 'up');
    }
    const copy = path.join(hostData('h3'), 'bulk/big.bin');
    await waitFor('the copy to be complete', async () => {
      const m = (await mirrorsOf('h2')).find((x) => x.service === 'bulk');
      if (m?.up && m.pending === 0 && fs.existsSync(copy)) return true;
      throw new Error(JSON.stringify(m));
    }, { timeoutMs: 180_000, everyMs: 250 });
    const copySum = createHash('sha256');
    for await (const chunk of fs.createReadStream(copy, { highWaterMark: 4 * 1024 * 1024 })) copySum.update(chunk as Buffer);
    expect(copySum.digest('hex')).toBe(sum);

    // It went on from the staged part: the event says where, and the bytes sent add up to about one file.
    const resumed = (await eventsOf('h2', 'bulk')).map((e) => /resuming the copy of big\.bin to node:h3 at byte (\d+) of (\d+)/.exec(e.reason)).find((m) => m !== null);
    expect(resumed, 'an event saying where the copy resumed').toBeTruthy();
    const offset = Number(resumed?.[1]);
    expect(Number(resumed?.[2])).toBe(size);
    expect(offset).toBeGreaterThanOrEqual(stagedAtBreak);
    const m = (await mirrorsOf('h2')).find((x) => x.service === 'bulk') as MirrorStatus;
    expect(m.resumedBytes).toBeGreaterThanOrEqual(stagedAtBreak);
    // From zero, at least size + stagedAtBreak (≥ 1.2 × size) would have been sent.
    expect(m.sentBytes).toBeLessThan(size + stagedAtBreak / 2);
    fs.rmSync(source);
    fs.rmSync(copy, { force: true });
  }, 420_000);

  it('SIGKILL of the active agent and its programs: the standby takes over and the counter continues from its last checkpoint', async () => {
    const active = await settledHolder();
    const standbys = MEMBERS.filter((h) => h !== active);
    const seen = (h: string) => (fs.existsSync(path.join(hostData(h), 'counter/count')) ? countOn(h) : null);
    // Running there (it may have been restarted there already: each start is a line of the log).
    await waitFor('the counter to run on the active node', async () => {
      if (programPid(active, 'counter') !== null && (seen(active) ?? 0) > 30) return true;
      const events = async (service: string) => (await eventsOf(active, service)).slice(-15).map((e) => `${e.time} ${e.kind} ${e.reason}`);
      throw new Error(JSON.stringify({ active, starts: starts(), counts: MEMBERS.map((h) => [h, seen(h), programPid(h, 'counter')]), counter: await events('counter'), redis: await events('redis') }));
    }, { timeoutMs: 30_000 });
    await waitFor('its checkpoints on the standbys', () => standbys.every((h) => (newestCheckpointCount(agentDir(bed.home, h), 'counter') ?? 0) > 30), { timeoutMs: 30_000 });
    const startsBefore = starts().length;
    const programs = [programPid(active, 'counter'), programPid(active, 'redis')];
    const from = performance.now();
    process.kill(agentPid(bed.home, active) as number, 'SIGKILL');
    for (const pid of programs) if (pid) process.kill(pid, 'SIGKILL');
    // What the killed node's counter had reached, and what the standbys had received by then.
    const reached = countOn(active);
    const replicated = Math.min(...standbys.map((h) => newestCheckpointCount(agentDir(bed.home, h), 'counter') ?? 0));

    const next = await settledHolder(30_000, active);
    await waitFor('the counter to start on the new active node', () => starts().length > startsBefore, { timeoutMs: 30_000 });
    const second = starts()[startsBefore] as number;
    expect(starts()[0]).toBe(0);
    // It starts from the newest checkpoint it received: no further back, and nothing the old one had not saved.
    expect(second).toBeGreaterThanOrEqual(replicated);
    expect(second).toBeLessThanOrEqual(reached + 1);
    await waitFor('the count to go on there', () => countOn(next) > second + 10);
    const loaded = await waitFor('the event naming the checkpoint', async () =>
      (await eventsOf(next, 'counter')).map((e) => /the program loaded checkpoint (\d+) \(epoch (\d+), \d+ bytes, from (\w+)\) saved ([\d.]+) s ago/.exec(e.reason)).find((x) => x !== null),
    );
    expect(loaded[3]).toBe(active);
    // Saved just before the kill (the counter saves every 20 ms); taken over within the failover budget.
    expect(Number(loaded[4])).toBeLessThan(30);
    expect(bed.sampler.doubles().filter((s) => s.t >= from)).toEqual([]);
  }, 120_000);

  it("redis's data folder is mirrored: keys written through the VIP and replicated are served through the VIP by the standby's redis after the active node is cut off", async () => {
    const active = await settledHolder();
    const keys = Array.from({ length: 200 }, (_, i) => `SET key:${i} value-${i}-${active}`).join('\n');
    viaVip([], `${keys}\n`);
    await waitFor('the keys on the active node', () => viaVip(['DBSIZE']) === '200');
    const written = Date.now();
    // Replicated, as the active node's status says: every target caught up, looked at after the writes settled.
    await waitFor('the mirror of redis\'s folder to be caught up on every standby', async () => {
      const ms = (await mirrorsOf(active)).filter((m) => m.service === 'redis');
      if (Date.now() - written > 1000 && ms.length === MEMBERS.length - 1 && ms.every((m) => m.up && m.pending === 0 && m.lagMs === 0 && !m.resyncing)) return true;
      throw new Error(JSON.stringify(ms));
    }, { timeoutMs: 60_000, everyMs: 200 });
    const redisPid = programPid(active, 'redis');
    const from = performance.now();
    bed.net.link(active, 'down');
    try {
      const next = await settledHolder(60_000, active);
      // The standby's redis started on its mirrored copy of the folder, and answers through the VIP.
      expect(programPid(next, 'redis')).not.toBe(redisPid);
      expect(viaVip(['DBSIZE'])).toBe('200');
      expect(viaVip(['GET', 'key:137'])).toBe(`value-137-${active}`);
      expect(viaVip(['GET', 'key:199'])).toBe(`value-199-${active}`);
      expect(bed.sampler.doubles().filter((s) => s.t >= from)).toEqual([]);
    } finally {
      bed.net.link(active, 'up');
    }
  }, 180_000);

  it('a standby whose mirrored copy lags is passed over: the member with the full copy takes over, although of lower priority', async () => {
    const priority: Record<string, number> = { h1: 200, h2: 150, h3: 100 };
    const active = await settledHolder();
    const [lagger, full] = MEMBERS.filter((h) => h !== active).sort((a, b) => (priority[b] ?? 0) - (priority[a] ?? 0)) as [string, string];
    // The active node loses its path to the standby it would hand over to: that copy stops following.
    bed.net.cut(active, lagger);
    try {
      await waitFor(`the active node to count ${lagger} as down`, async () => (await mirrorsOf(active)).some((m) => m.service === 'redis' && m.target === `node:${lagger}:${path.join(data, 'redis')}` && !m.up), { timeoutMs: 30_000, everyMs: 200 });
      viaVip([], `${Array.from({ length: 50 }, (_, i) => `SET late:${i} while-${lagger}-was-cut`).join('\n')}\n`);
      // The word reaches both standbys (the lagging one through the other, as it does not hear the active).
      await waitFor(`${full} and ${lagger} to know that ${lagger}'s copy lags`, async () => {
        const [g] = await manager.groups();
        if (g?.members.find((m) => m.node === lagger)?.lagging !== true) throw new Error(JSON.stringify(g?.members));
        return true;
      }, { timeoutMs: 30_000, everyMs: 200 });
      await waitFor(`the writes on ${full}'s copy`, async () => (await mirrorsOf(active)).filter((m) => m.service === 'redis' && m.target.startsWith(`node:${full}:`)).every((m) => m.up && m.pending === 0), { timeoutMs: 30_000, everyMs: 200 });
      const from = performance.now();
      bed.net.link(active, 'down');
      try {
        const next = await settledHolder(60_000, active);
        expect(next).toBe(full);
        expect(viaVip(['GET', 'late:49'])).toBe(`while-${lagger}-was-cut`);
        expect(bed.sampler.doubles().filter((x) => x.t >= from)).toEqual([]);
        // The journal of the node that took over says why it, and not the one of higher priority, did.
        await manager.collectEvents(full);
        expect(manager.readEvents({ node: full }).some((e) => e.kind === 'failover' && e.reason.includes(`data on ${lagger} lags`))).toBe(true);
      } finally {
        bed.net.link(active, 'up');
      }
    } finally {
      bed.net.mend(active, lagger);
    }
  }, 180_000);
});
