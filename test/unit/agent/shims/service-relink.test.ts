import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceRelink, type ServiceProcess } from '../../../../agent/shims/service-relink.js';
import { readProcStat } from '../../../../common/node/proc-stat.js';
import { sleep, waitFor } from '../../../helpers/wait.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real process standing for the service's main process, as the supervisor would report it. */
function serviceProcess(): { child: ChildProcess; info: (ready: boolean) => ServiceProcess } {
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  const pid = child.pid as number;
  const startTicks = readProcStat(pid)?.startTicks as number;
  return { child, info: (ready) => ({ pid, startTicks, ready }) };
}

/** The service's listening socket: counts the connections it accepted. */
async function listening(): Promise<{ port: number; accepted: () => number }> {
  let n = 0;
  const server = net.createServer((s) => {
    n += 1;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as net.AddressInfo).port, accepted: () => n };
}

describe('serviceRelink: the server end of an onMove resend shim, after the service died', () => {
  it('counts the connection lost to a death only once the process it was made with is gone', async () => {
    const first = serviceProcess();
    const relink = serviceRelink({ host: '127.0.0.1', port: 1 }, () => first.info(true), 1000, () => false);
    expect(relink.died()).toBe(false);
    first.child.kill('SIGKILL');
    await waitFor('the death to be seen', () => relink.died(), { timeoutMs: 5000 });
  });

  it('connects only to a new process the supervisor says is ready, not to one still starting', async () => {
    const svc = await listening();
    const first = serviceProcess();
    let now: ServiceProcess | null = first.info(true);
    const relink = serviceRelink({ host: '127.0.0.1', port: svc.port }, () => now, 10_000, () => false);
    first.child.kill('SIGKILL');
    let connected: net.Socket | null = null;
    void relink.connect('new').then((s) => (connected = s));
    // The dead process is still the one reported (not yet reaped), then none, then a new one that
    // listens (the port accepts) but is not ready yet: no connection is made for any of them.
    await sleep(150);
    now = null;
    await sleep(150);
    const second = serviceProcess();
    now = second.info(false);
    await sleep(300);
    expect(svc.accepted()).toBe(0);
    expect(connected).toBeNull();
    now = second.info(true);
    const socket = await waitFor('the connection to the ready service', () => connected, { timeoutMs: 5000 });
    cleanups.push(() => socket.destroy());
    await waitFor('the service to accept it', () => svc.accepted() === 1, { timeoutMs: 5000 });
    // Its connection is now the one a later death is judged by.
    expect(relink.died()).toBe(false);
    second.child.kill('SIGKILL');
    await waitFor('the second death to be seen', () => relink.died(), { timeoutMs: 5000 });
  });

  it('gives up after its time, saying the service is not ready; stops at once when the end stops', async () => {
    const svc = await listening();
    const first = serviceProcess();
    const second = serviceProcess();
    let now = first.info(true);
    const relink = serviceRelink({ host: '127.0.0.1', port: svc.port }, () => now, 300, () => false);
    now = second.info(false);
    await expect(relink.connect('new')).rejects.toThrow(/within 300 ms \(the service was started again but is not ready\)/);
    let stopped = false;
    const other = serviceRelink({ host: '127.0.0.1', port: svc.port }, () => first.info(true), 60_000, () => stopped);
    const attempt = other.connect('new');
    stopped = true;
    await expect(attempt).rejects.toThrow(/the shim end stopped/);
    expect(svc.accepted()).toBe(0);
  });
});
