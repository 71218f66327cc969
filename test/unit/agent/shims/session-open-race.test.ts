import { randomBytes, createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientEnd } from '../../../../agent/shims/client-end.js';
import { ServerEnd } from '../../../../agent/shims/server-end.js';
import type { ShimJournal } from '../../../../agent/shims/client-end.js';
import { PathRelay, shimConfig, shimPki, tcpServer } from '../../../helpers/shim-rig.js';
import { waitFor } from '../../../helpers/wait.js';

let pki: Awaited<ReturnType<typeof shimPki>>;
beforeAll(async () => {
  pki = await shimPki();
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A relay in front of the server end's mutual-TLS port whose first connection loses every byte
 * the server sends once `losing()` says so (after the TLS handshake, when the server end made the
 * session): the server end handles the open, the client end never sees the WELCOME and its
 * attempt runs out of time.
 */
async function answerLosingRelay(to: () => number, losing: () => boolean): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((a) => {
    n += 1;
    const first = n === 1;
    const b = net.connect({ host: '127.0.0.1', port: to() });
    for (const s of [a, b]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        a.destroy();
        b.destroy();
      });
    }
    a.on('data', (d: Buffer) => b.write(d));
    b.on('data', (d: Buffer) => {
      if (!(first && losing())) a.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => n,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/*
 * transport tcp: nothing goes either way before the first plain path, so the server end keeps a
 * session no plain path came for only a short while (its HELLO timeout), not brokenFor.
 * transport mtls: the open's path carries the data at once, the server end cannot tell a lost
 * WELCOME from a path broken just after it, so the abandoned session waits out brokenFor (short here).
 */
describe.each([
  { transport: 'tcp', brokenFor: '60s' },
  { transport: 'mtls', brokenFor: '2s' },
] as const)('an open whose answer is lost (transport $transport)', ({ transport, brokenFor }) => {
  it('the retried open carries the stream exactly; the abandoned one sends the service nothing and lets go of its connection', async () => {
    const seen: Array<{ data: Buffer[]; ended: boolean }> = [];
    const target = await tcpServer((sock) => {
      const conn = { data: [] as Buffer[], ended: false };
      seen.push(conn);
      sock.on('error', () => undefined);
      sock.on('data', (d: Buffer) => {
        conn.data.push(d);
        sock.write(d);
      });
      sock.on('end', () => {
        conn.ended = true;
        sock.end();
      });
    });
    cleanups.push(() => target.close());
    const events: Array<Parameters<ShimJournal>[0]> = [];
    const journal: ShimJournal = (e) => events.push(e);
    const cfg = shimConfig({ target: `127.0.0.1:${target.port}`, port: 0, tcpPort: 0, transport, heartbeat: '100ms', brokenFor });
    const server = new ServerEnd('svc', 0, cfg, pki.server, '127.0.0.1', journal, { helloTimeoutMs: 1000 });
    await server.start();
    cleanups.push(() => server.stop());
    const relay = await answerLosingRelay(() => server.port, () => server.sessions.size > 0);
    cleanups.push(() => relay.close());
    const client = new ClientEnd('svc', 0, cfg, pki.client, { locate: () => ({ host: '127.0.0.1', port: relay.port, tcpPort: server.dataPort }) }, journal);
    await client.start();
    cleanups.push(() => client.stop());

    const payload = randomBytes(512 * 1024);
    const program = net.connect({ host: '127.0.0.1', port: client.port });
    program.on('error', () => undefined);
    cleanups.push(() => program.destroy());
    const back: Buffer[] = [];
    let backBytes = 0;
    program.on('data', (d: Buffer) => {
      back.push(d);
      backBytes += d.length;
    });
    program.write(payload);
    await waitFor('the echo', () => backBytes >= payload.length, { timeoutMs: 15_000 });
    expect(relay.connections()).toBeGreaterThanOrEqual(2);
    expect(sha(Buffer.concat(back))).toBe(sha(payload));
    const carried = seen.filter((c) => c.data.length > 0);
    expect(carried.length).toBe(1);
    expect(sha(Buffer.concat((carried[0] as { data: Buffer[] }).data))).toBe(sha(payload));
    expect(seen.length).toBe(2);
    // The abandoned open: its session and its service connection end in order, well before brokenFor (tcp).
    await waitFor('the abandoned open to be let go of', () => server.sessions.size === 1 && seen.every((c) => c.data.length > 0 || c.ended), { timeoutMs: 10_000 });
    expect(client.sessions.size).toBe(1);
    // The live session is unaffected: another round trip goes through exactly.
    const more = randomBytes(64 * 1024);
    const before = backBytes;
    program.write(more);
    await waitFor('the second echo', () => backBytes >= before + more.length, { timeoutMs: 15_000 });
    expect(sha(Buffer.concat(back))).toBe(sha(Buffer.concat([payload, more])));
  }, 30_000);
});

describe('transport tcp: the plain port out of reach past the server end\'s wait', () => {
  it('the client end opens again (the first session was let go of) and the bytes written meanwhile arrive exactly once', async () => {
    const seen: Buffer[][] = [];
    const target = await tcpServer((sock) => {
      const got: Buffer[] = [];
      seen.push(got);
      sock.on('error', () => undefined);
      sock.on('data', (d: Buffer) => {
        got.push(d);
        sock.write(d);
      });
    });
    cleanups.push(() => target.close());
    const events: Array<Parameters<ShimJournal>[0]> = [];
    const journal: ShimJournal = (e) => events.push(e);
    const cfg = shimConfig({ target: `127.0.0.1:${target.port}`, port: 0, tcpPort: 0, transport: 'tcp', heartbeat: '100ms', brokenFor: '60s' });
    const server = new ServerEnd('svc', 0, cfg, pki.server, '127.0.0.1', journal, { helloTimeoutMs: 500 });
    await server.start();
    cleanups.push(() => server.stop());
    const relay = new PathRelay(() => server.dataPort);
    const relayPort = await relay.start();
    cleanups.push(() => relay.stop());
    relay.block(true);
    const client = new ClientEnd('svc', 0, cfg, pki.client, { locate: () => ({ host: '127.0.0.1', port: server.port, tcpPort: relayPort }) }, journal);
    await client.start();
    cleanups.push(() => client.stop());
    const payload = randomBytes(256 * 1024);
    const program = net.connect({ host: '127.0.0.1', port: client.port });
    program.on('error', () => undefined);
    cleanups.push(() => program.destroy());
    const back: Buffer[] = [];
    let backBytes = 0;
    program.on('data', (d: Buffer) => {
      back.push(d);
      backBytes += d.length;
    });
    program.write(payload);
    await waitFor('the server end to let go of the first session', () => events.some((e) => e.end === 'server' && e.code === 'SHIM_E_BROKEN_TOO_LONG'), { timeoutMs: 10_000 });
    relay.block(false);
    await waitFor('the echo', () => backBytes >= payload.length, { timeoutMs: 15_000 });
    expect(sha(Buffer.concat(back))).toBe(sha(payload));
    const carried = seen.filter((g) => g.length > 0);
    expect(carried.length).toBe(1);
    expect(sha(Buffer.concat(carried[0] as Buffer[]))).toBe(sha(payload));
    expect(events.some((e) => e.end === 'client' && /opening again/.test(e.text))).toBe(true);
    expect(seen.length).toBe(2);
    expect(client.sessions.size).toBe(1);
  }, 30_000);
});
