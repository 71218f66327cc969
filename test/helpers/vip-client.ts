import path from 'node:path';
import type { TestNetwork } from './netns.js';

const CLIENT = path.resolve(import.meta.dirname, '../fixtures/vip-client.js');

/** One attempt of the client: wall-clock time, and the pid of the program that answered (null: no answer). */
export interface Attempt {
  t: number;
  pid: number | null;
}

/** A client in its own test host that asks a service at an address every few milliseconds. */
export class VipClient {
  readonly attempts: Attempt[] = [];
  private rest = '';

  constructor(net: TestNetwork, host: string, ip: string, port: number, everyMs = 10, timeoutMs = 100) {
    const child = net.spawn(host, process.execPath, [CLIENT, ip, String(port), String(everyMs), String(timeoutMs)]);
    child.stdout?.on('data', (d: Buffer) => {
      const lines = (this.rest + d.toString()).split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) {
        const [t, what, pid] = line.split(' ');
        this.attempts.push({ t: Number(t), pid: what === 'ok' ? Number(pid) : null });
      }
    });
  }

  /** The first answer at or after `from` (wall clock) from a program other than `notPid`. */
  firstAnswerAfter(from: number, notPid: number | null = null): Attempt | undefined {
    return this.attempts.find((a) => a.t >= from && a.pid !== null && a.pid !== notPid);
  }

  /** The last answer from one program. */
  lastAnswerFrom(pid: number): Attempt | undefined {
    return this.attempts.findLast((a) => a.pid === pid);
  }

  latest(): Attempt | undefined {
    return this.attempts.at(-1);
  }
}
