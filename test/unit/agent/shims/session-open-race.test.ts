import { randomBytes, createHash } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ClientEnd } from '../../../../agent/shims/client-end.js';
import { ServerEnd } from '../../../../agent/shims/server-end.js';
import type { ShimJournal } from '../../../../agent/shims/client-end.js';
import { PathRelay, shimConfig, shimPki, tcpServer } from '../../../helpers/shim-rig.js';
import { waitFor } from '../../../helpers/wait.js';

const pkiReady = shimPki();

/** Runs `stop` when the test ends, whatever its outcome. */
function later<T>(thing: T, stop: (t: T) => unknown): T {
  onTestFinished(async () => {
    await stop(thing);
  });
  return thing;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The service: echoes, and keeps what each connection received and whether it ended. */
async function echoService() {
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
  later(target, (t) => t.close());
  return { port: target.port, seen, carried: () => seen.filter((c) => c.data.length > 0) };
}

/** The client program: writes, and keeps what came back. */
function program(port: number) {
  const socket = later(net.connect({ host: '127.0.0.1', port }), (s) => s.destroy());
  socket.on('error', () => undefined);
  const back: Buffer[] = [];
  let bytes = 0;
  socket.on('data', (d: Buffer) => {
    back.push(d);
    bytes += d.length;
  });
  return { write: (b: Buffer) => socket.write(b), bytes: () => bytes, sha: () => sha(Buffer.concat(back)) };
}

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

/** A server end for the echo service and a client end that finds it through `where` (given the server end). */
async function ends(servicePort: number, fields: Record<string, unknown>, helloTimeoutMs: number, where: (server: ServerEnd) => Promise<{ host: string; port: number; tcpPort?: number }>) {
  const pki = await pkiReady;
  const events: Array<Parameters<ShimJournal>[0]> = [];
  const journal: ShimJournal = (e) => events.push(e);
  const cfg = shimConfig({ target: `127.0.0.1:${servicePort}`, port: 0, tcpPort: 0, heartbeat: '100ms', ...fields });
  const server = later(new ServerEnd('svc', 0, cfg, pki.server, '127.0.0.1', journal, { helloTimeoutMs }), (x) => x.stop());
  await server.start();
  const at = await where(server);
  const client = later(new ClientEnd('svc', 0, cfg, pki.client, { locate: () => at }, journal), (x) => x.stop());
  await client.start();
  return { server, client, events };
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
    const service = await echoService();
    let relay: Awaited<ReturnType<typeof answerLosingRelay>> | null = null;
    const { server, client } = await ends(service.port, { transport, brokenFor }, 1000, async (srv) => {
      relay = later(await answerLosingRelay(() => srv.port, () => srv.sessions.size > 0), (r) => r.close());
      return { host: '127.0.0.1', port: relay.port, tcpPort: srv.dataPort };
    });
    const prog = program(client.port);
    const payload = randomBytes(512 * 1024);
    prog.write(payload);
    await waitFor('the echo', () => prog.bytes() >= payload.length, { timeoutMs: 15_000 });
    expect((relay as { connections: () => number } | null)?.connections()).toBeGreaterThanOrEqual(2);
    expect(prog.sha()).toBe(sha(payload));
    expect(service.carried().length).toBe(1);
    expect(sha(Buffer.concat(service.carried()[0]?.data ?? []))).toBe(sha(payload));
    expect(service.seen.length).toBe(2);
    // The abandoned open: its session and its service connection end in order, well before brokenFor (tcp).
    await waitFor('the abandoned open to be let go of', () => server.sessions.size === 1 && service.seen.every((c) => c.data.length > 0 || c.ended), { timeoutMs: 10_000 });
    expect(client.sessions.size).toBe(1);
    // The live session is unaffected: another round trip goes through exactly.
    const more = randomBytes(64 * 1024);
    prog.write(more);
    await waitFor('the second echo', () => prog.bytes() >= payload.length + more.length, { timeoutMs: 15_000 });
    expect(prog.sha()).toBe(sha(Buffer.concat([payload, more])));
  }, 30_000);
});

describe("transport tcp: the plain port out of reach past the server end's wait", () => {
  it('the client end opens again (the first session was let go of) and the bytes written meanwhile arrive exactly once', async () => {
    const service = await echoService();
    let relay: PathRelay | null = null;
    const { client, events } = await ends(service.port, { transport: 'tcp', brokenFor: '60s' }, 500, async (srv) => {
      relay = later(new PathRelay(() => srv.dataPort), (r) => r.stop());
      const tcpPort = await relay.start();
      relay.block(true);
      return { host: '127.0.0.1', port: srv.port, tcpPort };
    });
    const prog = program(client.port);
    const payload = randomBytes(256 * 1024);
    prog.write(payload);
    await waitFor('the server end to let go of the first session', () => events.some((e) => e.end === 'server' && e.code === 'SHIM_E_BROKEN_TOO_LONG'), { timeoutMs: 10_000 });
    (relay as PathRelay | null)?.block(false);
    await waitFor('the echo', () => prog.bytes() >= payload.length, { timeoutMs: 15_000 });
    expect(prog.sha()).toBe(sha(payload));
    expect(service.carried().length).toBe(1);
    expect(sha(Buffer.concat(service.carried()[0]?.data ?? []))).toBe(sha(payload));
    expect(events.some((e) => e.end === 'client' && /opening again/.test(e.text))).toBe(true);
    expect(service.seen.length).toBe(2);
    expect(client.sessions.size).toBe(1);
  }, 30_000);
});
