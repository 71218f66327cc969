import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ServiceProcess } from '../../../../agent/shims/service-relink.js';
import { readProcStat } from '../../../../common/node/proc-stat.js';
import { shimPair, shimPki, tcpServer } from '../../../helpers/shim-rig.js';
import { sleep, waitFor } from '../../../helpers/wait.js';

const pkiReady = shimPki();

/**
 * A service that accepts connections before it serves, as redis does while it reads its data:
 * until `ready`, every request gets `-LOADING`. A real process stands for its main process, as
 * the supervisor reports it (with `ready` as its probes say).
 */
async function startingService() {
  const state = { ready: false, accepted: 0, ended: 0, got: [] as string[] };
  const target = await tcpServer((sock) => {
    state.accepted += 1;
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      state.got.push(d.toString());
      sock.write(state.ready ? '+PONG\r\n' : '-LOADING Redis is loading the dataset in memory\r\n');
    });
    sock.on('end', () => {
      state.ended += 1;
      sock.end();
    });
  });
  onTestFinished(() => target.close());
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  onTestFinished(() => void child.kill('SIGKILL'));
  const pid = child.pid as number;
  const startTicks = readProcStat(pid)?.startTicks as number;
  const current = (): ServiceProcess => ({ pid, startTicks, ready: state.ready });
  return { port: target.port, state, current };
}

/** The client program: writes, keeps what came back and whether its connection ended. */
function program(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  onTestFinished(() => void socket.destroy());
  socket.on('error', () => undefined);
  const seen = { text: '', ended: false };
  socket.on('data', (d: Buffer) => (seen.text += d.toString()));
  socket.on('end', () => (seen.ended = true));
  return { socket, seen };
}

describe('a new session while the service is started but not ready (a failover, a restart)', () => {
  it.each(['resend', 'reopen', 'close'] as const)('onMove %s: opened at once, connected to the service only once it is ready; the request gets the ready answer, then the FIN', async (onMove) => {
    const svc = await startingService();
    const pair = await shimPair(await pkiReady, svc.port, { onMove }, { serviceProcess: svc.current });
    onTestFinished(() => pair.stop());
    const p = program(pair.client.port);
    p.socket.write('PING\r\n');
    p.socket.end();
    // Opened (the client end has its WELCOME and is not trying again), but nothing reaches the service.
    await waitFor('the session to be open', () => pair.server.sessions.size === 1, { timeoutMs: 5000 });
    await sleep(400);
    expect(svc.state.accepted).toBe(0);
    expect(p.seen.text).toBe('');
    expect(pair.server.sessions.size).toBe(1);
    svc.state.ready = true;
    await waitFor('the reply', () => p.seen.text.includes('\r\n'), { timeoutMs: 5000 });
    expect(p.seen.text).toBe('+PONG\r\n');
    expect(svc.state.got.join('')).toBe('PING\r\n');
    expect(svc.state.accepted).toBe(1);
    // The client's FIN, which came while the session waited, reached the service after the request.
    await waitFor('the service to see the end', () => svc.state.ended === 1, { timeoutMs: 5000 });
    await waitFor('the program to see the end', () => p.seen.ended, { timeoutMs: 5000 });
    expect(pair.events.filter((e) => e.end === 'server').map((e) => e.text)).toContain('the service is ready: the session is connected to it');
  });

  it('a service that does not become ready within brokenFor: the session ends as moved, and says why', async () => {
    const svc = await startingService();
    const pair = await shimPair(await pkiReady, svc.port, { onMove: 'close', brokenFor: '1s' }, { serviceProcess: svc.current });
    onTestFinished(() => pair.stop());
    const p = program(pair.client.port);
    p.socket.write('PING\r\n');
    await waitFor('the client program to be let go', () => p.seen.ended || p.socket.destroyed, { timeoutMs: 10_000 });
    expect(svc.state.accepted).toBe(0);
    expect(p.seen.text).toBe('');
    const said = pair.events.filter((e) => e.code === 'SHIM_E_MOVED').map((e) => e.text);
    expect(said.some((t) => /did not become ready on this node: no connection to 127\.0\.0\.1:\d+ within 1000 ms \(the service is not ready\)/.test(t))).toBe(true);
  });

  it('a service that is ready is connected at once, as before', async () => {
    const svc = await startingService();
    svc.state.ready = true;
    const pair = await shimPair(await pkiReady, svc.port, { onMove: 'resend' }, { serviceProcess: svc.current });
    onTestFinished(() => pair.stop());
    const p = program(pair.client.port);
    p.socket.write('PING\r\n');
    await waitFor('the reply', () => p.seen.text === '+PONG\r\n', { timeoutMs: 5000 });
    expect(pair.events.map((e) => e.text)).not.toContain('the service is ready: the session is connected to it');
  });
});
