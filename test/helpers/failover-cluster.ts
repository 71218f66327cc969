import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Manager } from '../../main/core/manager.js';
import { agentPid, standUpAgent } from './cluster-agents.js';
import { TestNetwork } from './netns.js';
import { VipClient } from './vip-client.js';
import { VipSampler } from './vip-sampler.js';

export const SERVER = path.resolve(import.meta.dirname, '../fixtures/any-address-server.js');

/**
 * A failover test bed: test hosts in network namespaces on one bridge, a client host that asks
 * the virtual IP every few milliseconds, a sampler of which hosts hold the VIP, and (once
 * `standUpArmory` ran) a manager with an enrolled agent on each named host. Used by the
 * failover benchmark, which also runs keepalived on the same hosts.
 */
export class FailoverBed {
  readonly net = new TestNetwork();
  readonly vip: string;
  readonly home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-failover-bed-'));
  manager: Manager | null = null;
  sampler!: VipSampler;
  client!: VipClient;
  private readonly keepers = new Map<string, ChildProcess>();
  private samplerPids: Record<string, number> = {};

  constructor(readonly hosts: readonly string[]) {
    this.vip = `${this.net.subnet}.100`;
  }

  /** `clientEveryMs` null: no client asking the VIP (a test that reaches its service otherwise). */
  up(clientEveryMs: number | null = 10, clientTimeoutMs = 50): void {
    this.net.up([...this.hosts, 'client']);
    const pids: Record<string, number> = {};
    for (const h of this.hosts) pids[h] = this.net.spawn(h, 'sleep', ['36000']).pid as number;
    this.samplerPids = pids;
    this.sampler = new VipSampler(this.vip, pids, 10);
    this.sampler.start();
    if (clientEveryMs !== null) this.client = new VipClient(this.net, 'client', this.vip, 8080, clientEveryMs, clientTimeoutMs);
  }

  /** `binds(host)`: folders bind-mounted for that host's agent and programs (see standUpAgent). */
  async standUpArmory(binds?: (host: string) => [string, string][]): Promise<void> {
    this.manager = new Manager({ ARMORY_HOME: path.join(this.home, 'manager') });
    await this.manager.open();
    const m = this.manager;
    await Promise.all(this.hosts.map(async (h) => this.keepers.set(h, await standUpAgent(m, this.net, this.home, h, binds ? { binds: binds(h) } : {}))));
  }

  /** Kills every process on the hosts but the sampler's, and removes the VIP from each host. */
  clearHosts(): void {
    const keep = new Set(Object.values(this.samplerPids));
    for (const h of this.hosts) {
      const ns = this.net.host(h).netns;
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        if (keep.has(pid)) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      try {
        execFileSync('ip', ['-n', ns, 'addr', 'del', `${this.vip}/24`, 'dev', 'eth0'], { stdio: 'ignore' });
      } catch {
        // not there
      }
    }
  }

  /** Stops every agent (keeper first, then the agent, then what it ran) and clears the VIP everywhere. */
  stopArmory(): void {
    for (const [h, k] of this.keepers) {
      const agent = agentPid(this.home, h);
      for (const pid of [k.pid, agent]) {
        try {
          if (pid) process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    this.keepers.clear();
    this.manager?.close();
    this.manager = null;
    this.clearHosts();
  }

  down(): void {
    this.sampler?.stop();
    this.stopArmory();
    this.net.down();
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
