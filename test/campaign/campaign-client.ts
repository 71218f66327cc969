import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestNetwork } from '../helpers/netns.js';

const WRITER = path.resolve(import.meta.dirname, '../fixtures/redis-writer.js');

/** One command of the client: when it was sent and answered (wall clock, ms), and how it went. */
export interface ClientOp {
  start: number;
  end: number;
  op: 'set' | 'get';
  key: number;
  /** ok: acknowledged (set) or read back right (get); miss: an acknowledged key read back as nil. */
  result: 'ok' | 'fail' | 'miss' | 'bad';
  why: string;
}

/**
 * The campaign's client, in its own test host: writes numbered keys through the session shim and
 * reads them back (test/fixtures/redis-writer.js); every reply is recorded here.
 */
export class CampaignClient {
  readonly ops: ClientOp[] = [];
  private readonly child: ChildProcess;
  private rest = '';

  constructor(net: TestNetwork, host: string, address: string, port: number, everyMs = 20, timeoutMs = 1000, lifetimeS = 3600) {
    this.child = net.spawn(host, process.execPath, [WRITER, address, String(port), String(everyMs), String(timeoutMs), String(lifetimeS)]);
    this.child.stdout?.on('data', (d: Buffer) => {
      const lines = (this.rest + d.toString()).split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) {
        const [start, end, op, key, result, ...why] = line.split(' ');
        if ((op !== 'set' && op !== 'get') || !result) continue;
        this.ops.push({ start: Number(start), end: Number(end), op, key: Number(key), result: result as ClientOp['result'], why: why.join(' ') });
      }
    });
  }

  /** Keys whose write redis acknowledged, with the time of the acknowledgement. */
  acked(): Map<number, number> {
    const out = new Map<number, number>();
    for (const o of this.ops) if (o.op === 'set' && o.result === 'ok' && !out.has(o.key)) out.set(o.key, o.end);
    return out;
  }

  /** The last successful reply (a write acknowledged or a key read back right). */
  lastSuccess(): ClientOp | undefined {
    return this.ops.findLast((o) => o.result === 'ok');
  }

  /** Stops the client (it finishes its command and exits; SIGKILL after `graceMs`). */
  async stop(graceMs = 3000): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
