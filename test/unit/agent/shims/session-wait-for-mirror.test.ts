import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ArmoryError } from '../../../../common/errors/armory-error.js';
import type { Session } from '../../../../agent/shims/session.js';
import { shimPair, shimPki, tcpServer, type ShimPair } from '../../../helpers/shim-rig.js';
import { sleep, waitFor } from '../../../helpers/wait.js';

let pki: Awaited<ReturnType<typeof shimPki>>;
beforeAll(async () => {
  pki = await shimPki();
});


/** A mirror barrier the test settles by hand (or, once `auto` is set, settles itself). */
function testBarrier() {
  const calls: Array<{ service: string; resolve: () => void; reject: (e: unknown) => void; settled: boolean }> = [];
  const state = { auto: false };
  const barrierOf = (service: string) =>
    new Promise<void>((resolve, reject) => {
      const call = { service, resolve, reject, settled: false };
      calls.push(call);
      if (state.auto) setImmediate(resolve);
    });
  return {
    calls,
    barrierOf,
    /** Settles the oldest unsettled call. */
    resolveNext() {
      const c = calls.find((x) => !x.settled);
      if (!c) throw new Error('no barrier is under way');
      c.settled = true;
      c.resolve();
    },
    rejectNext(e: unknown) {
      const c = calls.find((x) => !x.settled);
      if (!c) throw new Error('no barrier is under way');
      c.settled = true;
      c.reject(e);
    },
    /** From now on every barrier resolves at once (and the one under way too). */
    autoResolve() {
      state.auto = true;
      for (const c of calls) if (!c.settled) {
        c.settled = true;
        c.resolve();
      }
    },
  };
}

/** The service side: every connection it takes, to write to by hand; it ends its side when its client does. */
async function service(onConnection: (s: net.Socket) => void = () => undefined) {
  const srv = await tcpServer((s) => {
    s.on('error', () => undefined);
    s.on('end', () => s.end());
    onConnection(s);
  });
  onTestFinished(() => srv.close());
  return srv;
}

async function pairWith(port: number, barrier: ReturnType<typeof testBarrier> | null, fields: Record<string, unknown> = { waitForMirror: true }): Promise<ShimPair> {
  const pair = await shimPair(pki, port, fields, barrier ? { barrierOf: barrier.barrierOf } : {});
  onTestFinished(() => pair.stop());
  return pair;
}

/** A client program connected through the pair, with what it received and whether its stream ended. */
async function clientOf(pair: ShimPair) {
  const s = net.connect({ host: '127.0.0.1', port: pair.client.port, allowHalfOpen: true });
  onTestFinished(() => void s.destroy());
  const chunks: Buffer[] = [];
  const got = {
    bytes: 0,
    ended: false,
    closed: false,
    get data(): Buffer {
      return Buffer.concat(chunks);
    },
  };
  s.on('data', (d: Buffer) => {
    chunks.push(d);
    got.bytes += d.length;
  });
  s.on('end', () => (got.ended = true));
  s.on('close', () => (got.closed = true));
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.once('connect', () => r()));
  return { socket: s, got };
}

const sessionOf = (pair: ShimPair) => waitFor('the server-end session', () => [...pair.server.sessions.values()][0] as Session | undefined);

/** A service that answers each request with +OK and the request, behind a waitForMirror shim; a client has sent `request` and the first barrier is under way. */
async function requestSent(request: string, transport: 'mtls' | 'tcp' = 'mtls') {
  const barrier = testBarrier();
  const svc = await service((s) => s.on('data', (d) => s.write(`+OK ${d.toString()}`)));
  const pair = await pairWith(svc.port, barrier, { waitForMirror: true, transport });
  const c = await clientOf(pair);
  c.socket.write(request);
  await waitFor('the barrier to be asked', () => barrier.calls.length === 1);
  return { barrier, svc, pair, c };
}

describe('a shim with waitForMirror: the service\'s replies wait for the mirror', () => {
  it.each(['mtls', 'tcp'] as const)('holds a reply until the barrier resolves, then gives it; asks the barrier of its own service (transport %s)', async (transport) => {
    const { barrier, pair, c } = await requestSent('SET a 1', transport);
    expect(barrier.calls[0]?.service).toBe('svc');
    const session = await sessionOf(pair);
    expect(session.held).toBe('+OK SET a 1'.length);
    // Bounded: the reply is there at the server end and does not go on while the barrier runs.
    await sleep(300);
    expect(c.got.bytes).toBe(0);
    barrier.resolveNext();
    await waitFor('the reply', () => c.got.data.toString() === '+OK SET a 1');
    expect(session.held).toBe(0);
  });

  it('runs one barrier at a time: bytes that came while it ran wait for the next, which takes all of them', async () => {
    const barrier = testBarrier();
    const svc = await service();
    const pair = await pairWith(svc.port, barrier);
    const c = await clientOf(pair);
    const upstream = await waitFor('the service connection', () => [...svc.sockets][0]);
    const session = await sessionOf(pair);
    upstream.write('A');
    await waitFor('the first barrier', () => barrier.calls.length === 1);
    upstream.write('B');
    await waitFor('B at the server end', () => session.counts.sent === 2);
    upstream.write('C');
    await waitFor('C at the server end', () => session.counts.sent === 3);
    expect(barrier.calls).toHaveLength(1);
    barrier.resolveNext();
    await waitFor('A', () => c.got.data.toString() === 'A');
    // B and C may answer writes made after the first barrier began: held for the second.
    expect(session.held).toBe(2);
    expect(barrier.calls).toHaveLength(2);
    barrier.resolveNext();
    await waitFor('B and C', () => c.got.data.toString() === 'ABC');
    expect(barrier.calls).toHaveLength(2);
  });

  it("gives the service's end of stream (FIN) only after the bytes before it, each past a barrier", async () => {
    const barrier = testBarrier();
    const svc = await service((s) => s.once('data', () => s.end('bye')));
    const pair = await pairWith(svc.port, barrier);
    const c = await clientOf(pair);
    c.socket.write('QUIT');
    await waitFor('the first barrier', () => barrier.calls.length === 1);
    const session = await sessionOf(pair);
    await waitFor('the service to have ended its side', () => session.counts.sent === 3 && svc.sockets.size === 1);
    barrier.resolveNext();
    await waitFor('bye', () => c.got.data.toString() === 'bye');
    // The FIN came while the first barrier ran: the client sees it only past the second.
    await waitFor('the second barrier', () => barrier.calls.length === 2);
    await sleep(200);
    expect(c.got.ended).toBe(false);
    barrier.resolveNext();
    await waitFor('the end of the stream', () => c.got.ended);
    expect(c.got.data.toString()).toBe('bye');
    c.socket.end();
    await waitFor('the session to finish', () => pair.server.sessions.size === 0);
    expect(pair.events.filter((e) => e.code === 'SHIM_E_MIRROR')).toEqual([]);
  });

  it('a barrier that rejects (the mirror closed) closes the session with SHIM_E_MIRROR: the held reply is never given', async () => {
    const { barrier, svc, pair, c } = await requestSent('SET a 1');
    barrier.rejectNext(new ArmoryError('MIRROR_E_TARGET_DOWN', 'the mirror closed: this node is no longer active'));
    await waitFor('the client connection to close', () => c.got.closed || c.got.ended);
    expect(c.got.bytes).toBe(0);
    await waitFor('the session to be gone', () => pair.server.sessions.size === 0 && svc.sockets.size === 0);
    const closed = pair.events.find((e) => e.end === 'server' && e.code === 'SHIM_E_MIRROR');
    expect(closed?.text).toMatch(/MIRROR_E_TARGET_DOWN: the mirror closed/);
    // The client end heard why.
    expect(pair.events.some((e) => e.end === 'client' && e.code === 'SHIM_E_MIRROR')).toBe(true);
  });

  it('a held reply survives a broken path: it goes out over the resumed one once the barrier resolves, once', async () => {
    const { barrier, pair, c } = await requestSent('SET a 1');
    const session = await sessionOf(pair);
    pair.relay.cut();
    await waitFor('the session to resume', () => session.resumes === 1 && session.state === 'open', { timeoutMs: 15_000 });
    expect(c.got.bytes).toBe(0);
    barrier.resolveNext();
    await waitFor('the reply', () => c.got.data.toString() === '+OK SET a 1');
    c.socket.write('GET a');
    await waitFor('the second barrier', () => barrier.calls.length === 2);
    barrier.resolveNext();
    await waitFor('the second reply', () => c.got.data.toString() === '+OK SET a 1+OK GET a');
  });

  it('a large reply behind a slow barrier stays within the replay buffer (the service is paused), then arrives whole', async () => {
    const barrier = testBarrier();
    const bytes = 32 * 1024 * 1024;
    const payload = randomBytes(bytes);
    const progress = { written: 0 };
    const svc = await service((s) =>
      s.once('data', () => {
        const pump = () => {
          while (progress.written < bytes) {
            const piece = payload.subarray(progress.written, progress.written + 256 * 1024);
            progress.written += piece.length;
            if (!s.write(piece)) return void s.once('drain', pump);
          }
        };
        pump();
      }),
    );
    const buffer = 1024 * 1024;
    const pair = await pairWith(svc.port, barrier, { waitForMirror: true, buffer: '1MB' });
    const c = await clientOf(pair);
    c.socket.write('GET big');
    await waitFor('the first barrier', () => barrier.calls.length === 1);
    const session = await sessionOf(pair);
    // The service writes until its socket backs up: the server end stopped reading from it.
    let last = -1;
    await waitFor('the service to be held back', async () => {
      const now = progress.written;
      const still = now === last;
      last = now;
      await sleep(200);
      return still && now === progress.written;
    }, { timeoutMs: 15_000, everyMs: 1 });
    expect(progress.written).toBeLessThan(bytes);
    // One chunk past the buffer at most (what one read from the service socket brings).
    expect(session.counts.buffered).toBeLessThanOrEqual(buffer + 256 * 1024);
    expect(session.held).toBe(session.counts.buffered);
    expect(c.got.bytes).toBe(0);
    expect(barrier.calls).toHaveLength(1);

    barrier.autoResolve();
    await waitFor('the whole reply', () => c.got.bytes === bytes, { timeoutMs: 60_000 });
    expect(createHash('sha256').update(c.got.data).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    // Barriers are shared by what arrives while one runs: far fewer than the chunks read.
    expect(barrier.calls.length).toBeLessThan(bytes / (64 * 1024));
  }, 90_000);

  it('without waitForMirror the barrier is never asked', async () => {
    const barrier = testBarrier();
    const svc = await service((s) => s.on('data', () => s.write('+OK')));
    const pair = await pairWith(svc.port, barrier, {});
    const c = await clientOf(pair);
    c.socket.write('SET a 1');
    await waitFor('the reply', () => c.got.data.toString() === '+OK');
    expect(barrier.calls).toHaveLength(0);
  });

  it('with waitForMirror but no barrier given to the server end, no reply goes out: the session closes with SHIM_E_MIRROR', async () => {
    const svc = await service((s) => s.on('data', () => s.write('+OK')));
    const pair = await pairWith(svc.port, null);
    const c = await clientOf(pair);
    c.socket.write('SET a 1');
    await waitFor('the client connection to close', () => c.got.closed || c.got.ended);
    expect(c.got.bytes).toBe(0);
    expect(pair.events.some((e) => e.end === 'server' && e.code === 'SHIM_E_MIRROR' && /no mirror barrier/.test(e.text))).toBe(true);
  });
});
