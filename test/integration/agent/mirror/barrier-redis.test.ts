import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canConnect, freePort } from '../../../helpers/agent-harness.js';
import { mirroredToLocalAndPeer } from '../../../helpers/mirror-peer.js';
import { waitFor, within } from '../../../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function redisServer(dir: string, port: number): ChildProcess {
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'], { stdio: 'ignore' });
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}
const cli = (port: number, ...args: string[]) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();

describe('the mirror barrier with redis (appendonly, appendfsync always) in the mirrored folder', () => {
  it('every SET redis acknowledged before a barrier is in the copies: a redis started on either copy has them all', async () => {
    const { src, to, peerCopy, fm, close, events } = await mirroredToLocalAndPeer();
    cleanups.push(close);
    const port = freePort();
    const server = redisServer(src, port);
    await waitFor('redis to accept connections', () => canConnect(port), { timeoutMs: 15_000 });
    for (let i = 0; i < 60; i += 1) {
      expect(cli(port, 'SET', `key:${i}`, `value ${i}`)).toBe('OK');
      // Barriers after some writes only: the others must be in the copies all the same.
      if (i % 3 === 0) await within(20_000, `the barrier after SET ${i}`, fm.barrier(), () => ({ status: fm.status(), events }));
    }
    cli(port, 'BGREWRITEAOF');
    await waitFor('the rewrite to end', () => cli(port, 'INFO', 'persistence').includes('aof_rewrite_in_progress:0'), { timeoutMs: 15_000 });
    for (let i = 60; i < 80; i += 1) expect(cli(port, 'SET', `key:${i}`, `value ${i}`)).toBe('OK');
    await within(20_000, 'the barrier after the rewrite', fm.barrier(), () => ({ status: fm.status(), events }));
    // As after a failover: the service and the mirror are gone at once, the copies are all there is.
    const sent = fm.status().map((s) => s.sentBytes);
    await within(20_000, 'closing the mirror', fm.close());
    server.kill('SIGKILL');
    for (const copy of [path.join(to, src), peerCopy]) {
      const p2 = freePort();
      const other = redisServer(copy, p2);
      await waitFor('redis on the copy', () => canConnect(p2), { timeoutMs: 15_000 });
      await waitFor('the copy to be loaded', () => cli(p2, 'DBSIZE') === '80', { timeoutMs: 15_000 });
      expect(cli(p2, 'GET', 'key:79')).toBe('value 79');
      other.kill('SIGKILL');
    }
    // Appends: far less than a copy of the append-only file per barrier.
    for (const b of sent) expect(b).toBeLessThan(200_000);
    // About 2 s alone; every SET and every copied change is an fsync, which a busy disk makes slow.
  }, 90_000);
});
