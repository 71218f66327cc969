import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServerEnd } from '../../../../agent/shims/server-end.js';
import { freePort } from '../../../helpers/agent-harness.js';
import { shimPair, shimPki, streamPrograms, tcpServer, type ShimPair, type StreamResult } from '../../../helpers/shim-rig.js';
import { sleep, waitFor } from '../../../helpers/wait.js';

let pki: Awaited<ReturnType<typeof shimPki>>;
beforeAll(async () => {
  pki = await shimPki();
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const programs = streamPrograms((args) => {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
});

async function pairFor(targetPort: number, fields: Record<string, unknown> = {}): Promise<ShimPair> {
  const pair = await shimPair(pki, targetPort, fields);
  cleanups.push(() => pair.stop());
  return pair;
}

const MB = 1024 * 1024;

/** Streams `bytes` each way through the pair while `disturb` runs; returns both programs' reports. */
async function streamThrough(bytes: number, fields: Record<string, unknown>, disturb: (pair: ShimPair, progress: () => number) => Promise<void>) {
  const port = freePort();
  const server = programs.server('127.0.0.1', port, bytes);
  await waitFor('the server program to listen', () => server.results.some((r) => 'listening' in r));
  const pair = await pairFor(port, fields);
  const client = programs.client('127.0.0.1', pair.client.port, bytes);
  const session = await waitFor('a session', () => [...pair.server.sessions.values()][0]);
  await disturb(pair, () => session.counts.received);
  const done = (results: StreamResult[]) => results.find((r) => r.receivedSha !== undefined || r.error !== undefined);
  const c = await waitFor('the client program to finish', () => done(client.results), { timeoutMs: 60_000 });
  // The server program prints one line per connection. An open the client end gave up on (its
  // answer came too late) may have made a connection that carried nothing: its line (0 bytes,
  // the SHA of nothing) is not the stream's, so the line of the connection that carried data is
  // taken, and any error on any connection fails the test.
  const carried = (results: StreamResult[]) => results.find((r) => r.error !== undefined || (r.receivedSha !== undefined && (r.received ?? 0) > 0));
  const s = await waitFor('the server program to finish', () => carried(server.results), { timeoutMs: 60_000 });
  expect(server.results.filter((r) => r.error !== undefined || (r.errors ?? []).length > 0)).toEqual([]);
  expect(server.results.filter((r) => r.receivedSha !== undefined && (r.received ?? 0) > 0).length).toBe(1);
  return { c, s, pair };
}

describe('a session across a broken path', () => {
  it('survives the path being reset several times mid-stream: nothing lost, duplicated or reordered, no program sees an error', async () => {
    const bytes = 128 * MB;
    const { c, s, pair } = await streamThrough(bytes, {}, async (p, progress) => {
      for (let i = 1; i <= 3; i += 1) {
        await waitFor(`the stream to pass ${i * 30} MB`, () => progress() > i * 30 * MB, { timeoutMs: 30_000, everyMs: 5 });
        p.relay.cut();
      }
    });
    expect(c.error).toBeUndefined();
    expect(s.error).toBeUndefined();
    expect(c.errors).toEqual([]);
    expect(s.errors).toEqual([]);
    expect(s.received).toBe(bytes);
    expect(s.receivedSha).toBe(c.sentSha);
    expect(c.received).toBe(bytes);
    expect(c.receivedSha).toBe(s.sentSha);
    expect(pair.relay.connections).toBeGreaterThanOrEqual(4);
    expect(pair.events.filter((e) => e.end === 'client' && /resumed/.test(e.text)).length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('with transport tcp (plain paths proved with the secret) too: resets mid-stream lose, duplicate or reorder nothing', async () => {
    const bytes = 64 * MB;
    const { c, s, pair } = await streamThrough(bytes, { transport: 'tcp' }, async (p, progress) => {
      for (let i = 1; i <= 3; i += 1) {
        await waitFor(`the stream to pass ${i * 15} MB`, () => progress() > i * 15 * MB, { timeoutMs: 30_000, everyMs: 5 });
        p.relay.cut();
      }
    });
    expect(c.errors).toEqual([]);
    expect(s.errors).toEqual([]);
    expect(s.receivedSha).toBe(c.sentSha);
    expect(c.receivedSha).toBe(s.sentSha);
    expect(s.received).toBe(bytes);
    expect(c.received).toBe(bytes);
    // The relay carries the plain paths only: the first one and one after each reset.
    expect(pair.relay.connections).toBeGreaterThanOrEqual(4);
  }, 90_000);

  it('notices a half-open path by its silence and resumes over a new one', async () => {
    const bytes = 16 * MB;
    const { c, s, pair } = await streamThrough(bytes, { heartbeat: '100ms' }, async (p, progress) => {
      await waitFor('the stream to pass 4 MB', () => progress() > 4 * MB, { timeoutMs: 30_000 });
      p.relay.freeze();
      await waitFor('both ends to drop the silent path', () => p.events.filter((e) => /nothing heard/.test(e.text)).length >= 1, { timeoutMs: 10_000 });
      p.relay.thaw();
    });
    expect(c.errors).toEqual([]);
    expect(s.errors).toEqual([]);
    expect(s.receivedSha).toBe(c.sentSha);
    expect(c.receivedSha).toBe(s.sentSha);
    expect(pair.events.some((e) => e.code === 'SHIM_E_HALF_OPEN')).toBe(true);
  }, 90_000);
});

describe('bounds', () => {
  it('a session broken longer than brokenFor ends in order for both programs', async () => {
    const serverSide: { ended: boolean; errors: string[] } = { ended: false, errors: [] };
    const target = await tcpServer((sock) => {
      sock.on('error', (e) => serverSide.errors.push(e.message));
      sock.on('end', () => {
        serverSide.ended = true;
        sock.end();
      });
      sock.on('data', (d: Buffer) => sock.write(d));
    });
    cleanups.push(() => target.close());
    const pair = await pairFor(target.port, { brokenFor: '500ms', heartbeat: '100ms' });
    const client = net.connect({ host: '127.0.0.1', port: pair.client.port, allowHalfOpen: true });
    const clientSide: { ended: boolean; errors: string[]; data: string } = { ended: false, errors: [], data: '' };
    client.on('error', (e) => clientSide.errors.push(e.message));
    client.on('end', () => (clientSide.ended = true));
    client.on('data', (d: Buffer) => (clientSide.data += d.toString()));
    client.write('ping');
    await waitFor('the echo', () => clientSide.data === 'ping');
    pair.relay.block(true);
    pair.relay.cut();
    await waitFor('the client program to see an orderly end', () => clientSide.ended, { timeoutMs: 5000 });
    await waitFor('the server program to see an orderly end', () => serverSide.ended, { timeoutMs: 5000 });
    expect(clientSide.errors).toEqual([]);
    expect(serverSide.errors).toEqual([]);
    expect(pair.events.some((e) => e.code === 'SHIM_E_BROKEN_TOO_LONG' && e.end === 'client')).toBe(true);
    expect(pair.events.some((e) => e.code === 'SHIM_E_BROKEN_TOO_LONG' && e.end === 'server')).toBe(true);
    expect(pair.client.sessions.size).toBe(0);
    expect(pair.server.sessions.size).toBe(0);
    client.destroy();
  });

  it('a slow reader slows the writer: the replay buffer stays within its bound and everything arrives', async () => {
    let reader: net.Socket | null = null;
    let got = 0;
    const target = await tcpServer((sock) => {
      reader = sock;
      sock.pause();
      sock.on('data', (d: Buffer) => (got += d.length));
    });
    cleanups.push(() => target.close());
    const pair = await pairFor(target.port, { buffer: '256KB' });
    const client = net.connect({ host: '127.0.0.1', port: pair.client.port });
    client.on('error', () => undefined);
    const total = 32 * MB;
    const chunk = Buffer.alloc(MB, 7);
    let written = 0;
    const write = () => {
      while (written < total) {
        written += chunk.length;
        if (!client.write(chunk)) return void client.once('drain', write);
      }
    };
    write();
    const session = await waitFor('a session', () => [...pair.client.sessions][0]);
    let peak = 0;
    // The writer fills the buffers on its way and then stalls.
    await waitFor('the writer to stall', async () => {
      const before = written;
      peak = Math.max(peak, session.counts.buffered);
      await sleep(200);
      peak = Math.max(peak, session.counts.buffered);
      return written === before && written < total;
    });
    expect(peak).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    expect(written).toBeLessThan(total);
    (reader as net.Socket | null)?.resume();
    await waitFor('everything to arrive', () => got === total, { timeoutMs: 30_000 });
    client.destroy();
  }, 60_000);
});

/** A client program connected to the client end: what it received, whether it saw an end or errors. */
function watchedClient(port: number) {
  const client = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const seen = { ended: false, errors: [] as string[], data: '' };
  client.on('error', (e) => seen.errors.push(e.message));
  client.on('end', () => (seen.ended = true));
  client.on('data', (d: Buffer) => (seen.data += d.toString()));
  cleanups.push(() => client.destroy());
  return { client, seen };
}

describe('when the service moved (the server end has no session state)', () => {
  async function movedSetup(onMove: 'close' | 'reopen') {
    const target = await tcpServer((sock) => {
      sock.on('error', () => undefined);
      sock.on('data', (d: Buffer) => sock.write(d));
      sock.on('end', () => sock.end());
    });
    cleanups.push(() => target.close());
    const pair = await pairFor(target.port, { onMove, heartbeat: '100ms' });
    const { client, seen } = watchedClient(pair.client.port);
    client.write('one;');
    await waitFor('the first answer', () => seen.data === 'one;');
    // The service moves: a new server end (on the standby) knows nothing of the session.
    const old = pair.server;
    const port = old.port;
    await old.stop();
    const fresh = new ServerEnd('svc', 0, { ...old.shim, port }, pki.server, '127.0.0.1', (e) => pair.events.push(e));
    await fresh.start();
    pair.server = fresh;
    pair.relay.cut();
    return { pair, client, seen };
  }

  it('onMove close: the client program sees an orderly close and the event says so', async () => {
    const { pair, seen } = await movedSetup('close');
    await waitFor('the orderly close', () => seen.ended, { timeoutMs: 5000 });
    expect(seen.errors).toEqual([]);
    expect(pair.events.some((e) => e.code === 'SHIM_E_MOVED' && /onMove: close/.test(e.text))).toBe(true);
  });

  it('onMove reopen: the client connection is spliced to a fresh connection to the new server', async () => {
    const { pair, client, seen } = await movedSetup('reopen');
    await waitFor('the reopen', () => pair.events.some((e) => e.code === 'SHIM_E_MOVED' && /reopen/.test(e.text)), { timeoutMs: 5000 });
    await waitFor('a session on the new server end', () => pair.server.sessions.size === 1);
    client.write('two;');
    await waitFor('the answer from the new server', () => seen.data === 'one;two;');
    expect(seen.ended).toBe(false);
    expect(seen.errors).toEqual([]);
  });
});

describe('onMove resend: the service moved while a request was unanswered', () => {
  /**
   * The old service answers `one;` and never `two;` (it died before answering); the new one echoes
   * everything. `how`: the old server end closes the session (the service stopped running on its
   * node) or vanishes (its node died: the new server end does not know the session).
   */
  async function resendSetup(how: 'closed' | 'vanished') {
    const oldService = await tcpServer((sock) => {
      sock.on('error', () => undefined);
      sock.on('data', (d: Buffer) => {
        if (!d.toString().includes('two')) sock.write(d);
      });
    });
    const newHeard: string[] = [];
    const newService = await tcpServer((sock) => {
      sock.on('error', () => undefined);
      sock.on('data', (d: Buffer) => {
        newHeard.push(d.toString());
        sock.write(d);
      });
    });
    cleanups.push(() => oldService.close(), () => newService.close());
    const pair = await pairFor(oldService.port, { onMove: 'resend', heartbeat: '100ms' });
    const { client, seen } = watchedClient(pair.client.port);
    client.write('one;');
    await waitFor('the first answer', () => seen.data === 'one;');
    client.write('two;');
    await waitFor('the old service to have the second request', () => oldService.sockets.size === 1 && pair.server.sessions.size === 1);
    await sleep(100);
    const old = pair.server;
    const fresh = new ServerEnd('svc', 0, { ...old.shim, target: `127.0.0.1:${newService.port}` }, pki.server, '127.0.0.1', (e) => pair.events.push(e));
    await fresh.start();
    if (how === 'closed') {
      pair.server = fresh;
      await old.stop(true);
    } else {
      pair.server = fresh;
      pair.relay.cut();
      await old.stop();
    }
    return { pair, seen, newHeard };
  }

  for (const how of ['closed', 'vanished'] as const) {
    it(`the old server end ${how === 'closed' ? 'closed the session (SHIM_E_MOVED)' : 'vanished (the new one does not know the session)'}: the new service is sent the unanswered request, and only that; the client connection goes on`, async () => {
      const { pair, seen, newHeard } = await resendSetup(how);
      await waitFor('the answer from the new service', () => seen.data === 'one;two;', { timeoutMs: 10_000 });
      expect(newHeard.join('')).toBe('two;');
      expect(seen.ended).toBe(false);
      expect(seen.errors).toEqual([]);
      expect(pair.events.some((e) => e.code === 'SHIM_E_MOVED' && /onMove: resend/.test(e.text))).toBe(true);
    });
  }

  it('a server end that closes every session it is given (here: no mirror barrier for waitForMirror) is reopened at most three times, then the client sees an orderly close', async () => {
    const target = await tcpServer((sock) => {
      sock.on('error', () => undefined);
      sock.on('data', (d: Buffer) => sock.write(d));
    });
    cleanups.push(() => target.close());
    const pair = await pairFor(target.port, { onMove: 'resend', heartbeat: '100ms', waitForMirror: true });
    const { client, seen } = watchedClient(pair.client.port);
    client.write('x;');
    await waitFor('the orderly close', () => seen.ended, { timeoutMs: 10_000 });
    expect(seen.data).toBe('');
    expect(pair.events.filter((e) => e.end === 'client' && /onMove: resend/.test(e.text))).toHaveLength(3);
    expect(pair.events.some((e) => e.end === 'client' && /onMove: close/.test(e.text))).toBe(true);
  });

  it('a request larger than the buffer is not kept: the session closes in order rather than leave the client waiting', async () => {
    const target = await tcpServer((sock) => sock.on('error', () => undefined));
    cleanups.push(() => target.close());
    const pair = await pairFor(target.port, { onMove: 'resend', heartbeat: '100ms', buffer: '4KB' });
    const client = net.connect({ host: '127.0.0.1', port: pair.client.port, allowHalfOpen: true });
    const seen = { ended: false };
    client.on('error', () => undefined);
    client.on('end', () => (seen.ended = true));
    cleanups.push(() => client.destroy());
    client.write(Buffer.alloc(10_000, 7));
    await waitFor('the bytes at the service', () => pair.server.sessions.size === 1 && [...pair.server.sessions.values()][0]?.counts.received === 10_000);
    await pair.server.stop(true);
    await waitFor('the orderly close', () => seen.ended, { timeoutMs: 5000 });
    expect(pair.events.some((e) => e.code === 'SHIM_E_MOVED' && /onMove: close/.test(e.text))).toBe(true);
  });
});

describe('a program that resets its connection', () => {
  it('the other program sees its connection end, the session ends with SHIM_E_ABORTED, nothing is left behind', async () => {
    const serverSide = { ended: false };
    const target = await tcpServer((sock) => {
      sock.on('error', () => undefined);
      sock.on('end', () => (serverSide.ended = true));
      sock.on('data', (d: Buffer) => sock.write(d));
    });
    cleanups.push(() => target.close());
    const pair = await pairFor(target.port);
    const client = net.connect({ host: '127.0.0.1', port: pair.client.port });
    let heard = '';
    client.on('data', (d: Buffer) => (heard += d.toString()));
    client.write('hi');
    await waitFor('the echo', () => heard === 'hi');
    client.resetAndDestroy();
    await waitFor('the service to see its connection end', () => serverSide.ended);
    expect(pair.events.some((e) => e.code === 'SHIM_E_ABORTED' && e.end === 'client')).toBe(true);
    await waitFor('both ends to drop the session', () => pair.client.sessions.size === 0 && pair.server.sessions.size === 0);
  });
});
