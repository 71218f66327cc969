import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AgentEvent, ServiceStatus } from '../../common/wire/service-status.js';
import { liveGroupMembers } from '../../common/node/proc-stat.js';
import { claimPort } from './port-claims.js';
import { waitFor } from './wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const AGENT_BIN = path.join(ROOT, 'bin/armory-agent.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `armory-agent` command line. */
export function cli(args: string[], options: { input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [AGENT_BIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      // A command that had to be killed (it hung) is -1, never mistaken for an orderly failure.
      const code = error ? (error.killed ? -1 : typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** A scratch folder with a config file and a state dir; everything it starts is cleaned up by dispose(). */
export class AgentHarness {
  readonly dir: string;
  readonly stateDir: string;
  readonly configFile: string;
  agent: ChildProcess | null = null;
  agentOutput = '';
  /** pid → start time, so that cleanup never signals a recycled pid. */
  private readonly extraPids = new Map<number, number>();

  constructor(config: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-it-'));
    this.stateDir = path.join(this.dir, 'state');
    this.configFile = path.join(this.dir, 'armory.yaml');
    fs.writeFileSync(this.configFile, config);
  }

  writeConfig(config: string): void {
    const tmp = `${this.configFile}.tmp`;
    fs.writeFileSync(tmp, config);
    fs.renameSync(tmp, this.configFile);
  }

  /** Starts `armory-agent run` (or `keeper`) and waits until its control socket answers. */
  async start(mode: 'run' | 'keeper' = 'run'): Promise<void> {
    await this.startWith([mode, '--config', this.configFile]);
  }

  /** Starts the agent with these arguments (plus --state-dir) and waits until it answers. */
  async startWith(args: string[]): Promise<void> {
    this.agentOutput = '';
    const child = spawn(process.execPath, [AGENT_BIN, ...args, '--state-dir', this.stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (this.agentOutput += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.agentOutput += d.toString()));
    this.agent = child;
    const outcome = await waitFor('the agent to answer', async () => {
      if (child.exitCode !== null) return 'exited';
      return (await cli(['status', '--json', '--state-dir', this.stateDir])).code === 0 ? 'up' : undefined;
    }, { timeoutMs: 15_000, everyMs: 50 });
    if (outcome === 'exited') throw new Error(`agent exited with ${child.exitCode}: ${this.agentOutput}`);
  }

  /** The pid of the agent process itself (under the keeper it is not our direct child). */
  agentPid(): number {
    return Number(fs.readFileSync(path.join(this.stateDir, 'agent.pid'), 'utf8').split(' ')[0]);
  }

  async status(): Promise<ServiceStatus[]> {
    const r = await cli(['status', '--json', '--state-dir', this.stateDir]);
    if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
    const services = (JSON.parse(r.stdout) as { services: ServiceStatus[] }).services;
    for (const s of services) if (s.pid !== null) this.track(s.pid);
    return services;
  }

  async service(name: string): Promise<ServiceStatus> {
    const s = (await this.status()).find((x) => x.name === name);
    if (!s) throw new Error(`no service ${name}`);
    return s;
  }

  async events(): Promise<AgentEvent[]> {
    const r = await cli(['events', '--json', '--limit', '10000', '--state-dir', this.stateDir]);
    if (r.code !== 0) throw new Error(`events failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as AgentEvent[];
  }

  /** Waits for a service to satisfy a predicate and returns its status. */
  waitService(name: string, what: string, pred: (s: ServiceStatus) => boolean, timeoutMs = 10_000): Promise<ServiceStatus> {
    return waitFor(`${name} ${what}`, async () => {
      const s = await this.service(name);
      return pred(s) ? s : undefined;
    }, { timeoutMs });
  }

  track(pid: number): void {
    const ticks = startTicks(pid);
    if (ticks !== null && !this.extraPids.has(pid)) this.extraPids.set(pid, ticks);
  }

  async killAgent(): Promise<void> {
    const pid = this.agentPid();
    process.kill(pid, 'SIGKILL');
    await waitFor('the agent to die', () => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
  }

  async dispose(): Promise<void> {
    if (fs.existsSync(path.join(this.stateDir, 'agent.sock'))) await cli(['shutdown', '--state-dir', this.stateDir]);
    if (this.agent && this.agent.exitCode === null) {
      await waitFor('the agent to exit', () => this.agent?.exitCode !== null, { timeoutMs: 15_000 }).catch(() => this.agent?.kill('SIGKILL'));
    }
    for (const [pid, ticks] of this.extraPids) {
      if (startTicks(pid) !== ticks) continue;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // group already gone
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function startTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// Below the ephemeral range (32768 and up), 127 blocks of 100: each test file (a process of its
// own) starts in the block of its pid, and skips ports something already listens on and ports
// another test file of the run claimed (two files whose pids share a block would otherwise pick
// the same port before either listens on it).
let nextPort = 20_000 + (process.pid % 127) * 100;

/** TCP ports in LISTEN state on this host (any address), from /proc/net/tcp and tcp6. */
function listeningPorts(): Set<number> {
  const out = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') out.add(parseInt((cols[1] ?? '').split(':')[1] ?? '', 16));
    }
  }
  return out;
}

/** A port for one test that nothing listens on now. */
export function freePort(): number {
  const busy = listeningPorts();
  for (let i = 0; i < 1000; i += 1) {
    nextPort = nextPort >= 32_700 ? 20_001 : nextPort + 1;
    if (!busy.has(nextPort) && claimPort(nextPort)) return nextPort;
  }
  throw new Error('no free TCP port found between 20001 and 32700');
}

/** Live members of a process group, from /proc. */
export function groupMembers(pgid: number): number[] {
  return liveGroupMembers(pgid).map((m) => m.pid);
}
