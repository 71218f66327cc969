import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { agentDir, agentPid } from '../helpers/cluster-agents.js';
import { FailoverBed } from '../helpers/failover-cluster.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { AnswerSampler } from './answer-sampler.js';
import { CampaignClient } from './campaign-client.js';
import type { FaultKind } from './fault-plan.js';
import { redisCommands } from './resp-client.js';
import { isAlive } from '../helpers/agent-harness.js';

export const MEMBERS = ['h1', 'h2', 'h3'] as const;
export const REDIS_PORT = 6390;
/** Where the client end of the shim listens on the client host, and the server end's port. */
export const SHIM_LISTEN_PORT = 7801;
export const SHIM_PORT = 7802;
/** How long a link cut, a partition and a full disk are held before they are undone. */
export const HOLD_MS = 3000;

/**
 * The detection and recovery settings of the campaign's configuration, as an admin who wants 0.999
 * tunes them (the report prints them): a hang is found by a TCP probe that sends PING and expects
 * +PONG (a redis still loading its data answers -LOADING: not ready) every 100 ms that fails
 * twice in a row at 150 ms (defaults: 1 s, 1 s, 3); a silent node by peer heartbeats every 50 ms
 * and a takeover after 250 ms (defaults: 100 ms, 300 ms). The lease is then 199 ms, renewed every
 * 50 ms: 149 ms of scheduling delay before an active node steps down needlessly, against 138 ms at
 * the defaults (238 ms, renewed every 100 ms). A takeover after 200 ms (lease 159 ms, 109 ms of
 * slack) gave 3 failovers nobody asked for in a 6-minute run at a load of 5 on 2 cores. A
 * silent shim path after three 100 ms heartbeats (default 1 s). A disk-full fault needs no probe
 * of its own here: redis with `appendfsync always` exits when an AOF write fails; what shortens it is the
 * restart budget: after 2 restarts within a minute the service moves to a standby (default 5),
 * instead of failing on the full disk again and again.
 */
export const TUNING = {
  probe: { interval: '100ms', timeout: '150ms', failures: 2 },
  restart: { backoffInitial: '50ms', budget: { restarts: 2, window: '1m' } },
  stopGrace: '1s',
  group: { heartbeat: '50ms', failAfter: '250ms' },
  // resend: a write in flight when redis dies or moves is sent again (SET of a numbered key: safe twice).
  shim: { heartbeat: '100ms', brokenFor: '10s', onMove: 'resend' },
} as const;

/** One injected fault, as the harness saw it (wall-clock ms). */
export interface FaultRecord {
  kind: FaultKind;
  node: string;
  injectAt: number;
  /** When the harness undid the fault (link up, routes mended, disk freed, SIGCONT); = injectAt for one-shot faults. */
  healedAt: number;
  /** When the cluster was seen settled again: one VIP holder, one redis answering, every member ready, the client answered. */
  settledAt: number;
  recovered: boolean;
  /** The node holding the VIP once settled. */
  after: string | null;
  notes: string[];
}

/**
 * The availability campaign's test bed: three members (h1, h2, h3) in one failover group running
 * redis-server behind a VIP, its data folder on a small tmpfs per host mirrored to the standbys, a
 * session shim whose client end runs on the client host, and a client there that writes numbered
 * keys and reads them back. Faults are injected from here (the bed owns the namespaces).
 */
export class CampaignBed extends FailoverBed {
  /** The path at which each member's agent and redis see their own host's data folder. */
  readonly data = path.join(this.home, 'data');
  answers!: AnswerSampler;
  writer: CampaignClient | null = null;
  private readonly mounts: string[] = [];

  constructor(private readonly tmpfsMb = 16) {
    super(MEMBERS);
  }

  hostData(h: string): string {
    return path.join(this.home, 'hosts', h, 'data');
  }

  config(): string {
    const redisDir = path.join(this.data, 'redis');
    const args = ['--port', String(REDIS_PORT), '--bind', '0.0.0.0', '--protected-mode', 'no', '--dir', redisDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'];
    const t = TUNING;
    return `nodes:
${[...MEMBERS, 'client'].map((h) => `  ${h}: { address: ${this.net.host(h).address} }`).join('\n')}
services:
  redis:
    command: /usr/bin/redis-server
    args: ${JSON.stringify(args)}
    stop: { grace: ${t.stopGrace} }
    restart: { backoff: { initial: ${t.restart.backoffInitial} }, budget: { restarts: ${t.restart.budget.restarts}, window: ${t.restart.budget.window} } }
    probes:
      - tcp: "127.0.0.1:${REDIS_PORT}"
        send: "PING\\r\\n"
        expect: "+PONG"
        interval: ${t.probe.interval}
        timeout: ${t.probe.timeout}
        failures: ${t.probe.failures}
    placement: { nodes: [h1, h2, h3] }
    mirror: { folders: [${JSON.stringify(redisDir)}] }
    vip: { address: ${this.vip}/24, interface: eth0 }
    shims:
      - listen: 127.0.0.1:${SHIM_LISTEN_PORT}
        target: 127.0.0.1:${REDIS_PORT}
        port: ${SHIM_PORT}
        clients: [client]
        heartbeat: ${t.shim.heartbeat}
        brokenFor: ${t.shim.brokenFor}
        onMove: ${t.shim.onMove}
        waitForMirror: true
groups:
  g:
    members: [{ node: h1, priority: 200 }, { node: h2, priority: 150 }, { node: h3, priority: 100 }]
    services: [redis]
    heartbeat: ${t.group.heartbeat}
    failAfter: ${t.group.failAfter}
`;
  }

  /** Hosts, tmpfs data folders, agents, the configuration, the samplers and the client; resolves once the client's writes are acknowledged. */
  async setUp(clientEveryMs = 20): Promise<void> {
    fs.mkdirSync(this.data, { recursive: true });
    for (const h of MEMBERS) {
      const dir = this.hostData(h);
      fs.mkdirSync(dir, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${this.tmpfsMb}m,mode=0755`, `armory-campaign-${h}`, dir]);
      this.mounts.push(dir);
      fs.mkdirSync(path.join(dir, 'redis'));
    }
    this.up(10, 50, { httpClient: false });
    await this.standUpArmory({ binds: (h) => (h === 'client' ? [] : [[this.hostData(h), this.data]]), clientAgent: true });
    const manager = this.manager;
    if (!manager) throw new Error('no manager');
    const r = await manager.apply(this.config());
    if (!r.pushed.every((p) => p.ok)) throw new Error(`configuration not pushed: ${JSON.stringify(r.pushed)}`);
    this.answers = new AnswerSampler(Object.fromEntries(MEMBERS.map((h) => [h, this.net.host(h).address])), REDIS_PORT, 100);
    this.answers.start();
    await this.settled(30_000, { client: false });
    this.writer = new CampaignClient(this.net, 'client', '127.0.0.1', SHIM_LISTEN_PORT, clientEveryMs);
    await waitFor('the client\'s first acknowledged write', () => this.writer?.acked().size, { timeoutMs: 20_000 });
  }

  /** The one member holding the VIP, or null. */
  holder(): string | null {
    const h = this.sampler.holders();
    return h.length === 1 ? (h[0] as string) : null;
  }

  /** The pid of a host's agent (the client host's too), or null. */
  agentPid(host: string): number | null {
    return agentPid(this.home, host);
  }

  /** The pid of redis-server on a member, from its agent's state file. */
  redisPid(host: string): number | null {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(agentDir(this.home, host), 'state.json'), 'utf8')) as { services: Record<string, { pid: number | null }> };
      return s.services.redis?.pid ?? null;
    } catch {
      return null;
    }
  }

  /**
   * Waits until the cluster is settled: one VIP holder, its redis the only one answering, every
   * member reachable, ready and in active or standby with fresh heartbeats, and (with a client)
   * a successful reply to the client in the last second. Returns the holder.
   */
  async settled(timeoutMs: number, options: { client?: boolean } = {}): Promise<string> {
    const manager = this.manager;
    if (!manager) throw new Error('no manager');
    return waitFor(
      'the cluster to settle',
      async () => {
        const holder = this.holder();
        if (!holder) throw new Error(`VIP holders: [${this.sampler.holders().join(', ')}]`);
        const answering = await this.answers.answering();
        if (answering.join() !== holder) throw new Error(`VIP on ${holder}, redis answering on [${answering.join(', ')}]`);
        const [g] = await manager.groups();
        if (!g || g.activeNode !== holder) throw new Error(`group active node ${g?.activeNode ?? 'none'}, VIP on ${holder}`);
        const unfit = g.members.filter((m) => !m.reachable || m.ready !== true || (m.state !== 'active' && m.state !== 'standby'));
        if (unfit.length) throw new Error(`members not settled: ${JSON.stringify(unfit)}`);
        if (!g.heartbeats.every((b) => b.fresh)) throw new Error('stale heartbeats');
        if (options.client !== false) {
          const last = this.writer?.lastSuccess();
          if (!last || Date.now() - last.end > 1000) throw new Error('the client has had no successful reply in the last second');
        }
        return holder;
      },
      { timeoutMs, everyMs: 200 },
    );
  }

  /** Injects one fault into the node holding the VIP, undoes it (bounded), and waits for the cluster to settle. */
  async inject(kind: FaultKind, settleTimeoutMs = 45_000): Promise<FaultRecord> {
    const manager = this.manager;
    if (!manager) throw new Error('no manager');
    const node = this.holder() ?? (await this.settled(settleTimeoutMs));
    const notes: string[] = [];
    const injectAt = Date.now();
    let healedAt = injectAt;
    switch (kind) {
      case 'crash': {
        const pid = this.redisPid(node);
        if (!pid) throw new Error(`no redis pid on ${node}`);
        process.kill(pid, 'SIGKILL');
        break;
      }
      case 'hang': {
        const pid = this.redisPid(node);
        if (!pid) throw new Error(`no redis pid on ${node}`);
        process.kill(pid, 'SIGSTOP');
        try {
          await waitFor('the hung redis to be ended by its agent', () => !isAlive(pid), { timeoutMs: 20_000, everyMs: 20 });
        } catch {
          notes.push('the hung redis was still there after 20 s: SIGCONT');
        }
        healedAt = Date.now();
        if (isAlive(pid)) process.kill(pid, 'SIGCONT');
        break;
      }
      case 'agent-kill': {
        const pid = agentPid(this.home, node);
        if (!pid) throw new Error(`no agent pid on ${node}`);
        process.kill(pid, 'SIGKILL');
        break;
      }
      case 'link-down':
        this.net.link(node, 'down');
        await sleep(HOLD_MS);
        this.net.link(node, 'up');
        healedAt = Date.now();
        break;
      case 'partition': {
        const others = MEMBERS.filter((h) => h !== node);
        for (const o of others) this.net.cut(node, o);
        await sleep(HOLD_MS);
        for (const o of others) this.net.mend(node, o);
        healedAt = Date.now();
        break;
      }
      case 'disk-full': {
        const filler = path.join(this.hostData(node), 'filler');
        fillUp(filler);
        await sleep(HOLD_MS);
        fs.rmSync(filler, { force: true });
        healedAt = Date.now();
        // A node whose service gave up there stays out of failover until someone says the cause is
        // gone: once it did (or the service runs there again), the operator's step.
        const outcome = await waitFor(
          `${node} to give up the service or run it again`,
          async () => {
            const [g] = await manager.groups();
            if (g?.members.find((m) => m.node === node)?.ready === false) return 'unfit';
            return this.holder() === node && (await this.answers.answering()).join() === node ? 'running' : undefined;
          },
          { timeoutMs: 20_000, everyMs: 200 },
        ).catch(() => 'unknown');
        if (outcome === 'unfit') {
          await manager.drain(node, false);
          notes.push(`${node} gave up the service; made available for failover again (the operator's step after freeing the disk)`);
        } else notes.push(`${node}: service ${outcome === 'running' ? 'running there again' : 'state unknown after 20 s'}`);
        break;
      }
    }
    let after: string | null = null;
    let recovered = true;
    try {
      after = await this.settled(settleTimeoutMs);
    } catch (e) {
      recovered = false;
      notes.push(`not settled within ${settleTimeoutMs} ms: ${(e as Error).message}`);
    }
    return { kind, node, injectAt, healedAt, settledAt: Date.now(), recovered, after, notes };
  }

  /** Reads every key back from the redis of the node holding the VIP (directly, not through the shim): the values found. */
  async readBack(keys: readonly number[]): Promise<{ node: string; values: Map<number, string | null> }> {
    const node = await this.settled(30_000, { client: false });
    const values = new Map<number, string | null>();
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const [reply] = await redisCommands(this.net.host(node).address, REDIS_PORT, [['MGET', ...batch.map((k) => `k${k}`)]], 5000);
      if (!Array.isArray(reply)) throw new Error(`MGET answered ${JSON.stringify(reply)}`);
      batch.forEach((k, j) => values.set(k, typeof reply[j] === 'string' ? (reply[j] as string) : null));
    }
    return { node, values };
  }

  override down(): void {
    this.answers?.stop();
    this.stopArmory();
    for (const dir of this.mounts.splice(0)) {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
    super.down();
  }
}

/** Writes zeros to `file` until the filesystem is full (bounded by 1 GB). */
function fillUp(file: string): void {
  const fd = fs.openSync(file, 'w');
  let written = 0;
  try {
    // Big chunks first, then ever smaller ones, so that no free page is left.
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size);
      try {
        while (written < 1024 ** 3) written += fs.writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
