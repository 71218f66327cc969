import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsMaterial } from '../../../../agent/api/tls-server.js';
import { ClientEnd } from '../../../../agent/shims/client-end.js';
import { proofOf } from '../../../../agent/shims/resume-proof.js';
import { ServerEnd } from '../../../../agent/shims/server-end.js';
import { ShimDecoder } from '../../../../common/wire/shim-decoder.js';
import { encodeFrame, type ShimFrame } from '../../../../common/wire/shim-frame.js';
import { shimConfig, shimPair, shimPki, tcpServer, type ShimPair } from '../../../helpers/shim-rig.js';
import { waitFor } from '../../../helpers/wait.js';

let pki: Awaited<ReturnType<typeof shimPki>>;
let echo: Awaited<ReturnType<typeof tcpServer>>;
let pair: ShimPair;
let bystanderStillWorks: () => Promise<void>;
const stops: Array<() => unknown> = [];

/**
 * A pair in front of the echo service with one live session through it (a client program, the
 * bystander), and the check that it is unaffected: it still answers, and it is the only session.
 */
async function pairWithBystander(fields: Record<string, unknown> = {}): Promise<{ pair: ShimPair; stillWorks: () => Promise<void> }> {
  const p = await shimPair(pki, echo.port, fields);
  const bystander = net.connect({ host: '127.0.0.1', port: p.client.port });
  stops.push(() => p.stop(), () => bystander.destroy());
  let heard = '';
  bystander.on('data', (d: Buffer) => (heard += d.toString()));
  bystander.write('a');
  await waitFor('the bystander session', () => heard === 'a');
  const stillWorks = async () => {
    const before = heard;
    bystander.write('b');
    await waitFor('the bystander to be answered', () => heard === `${before}b`);
    expect(p.server.sessions.size).toBe(1);
  };
  return { pair: p, stillWorks };
}

beforeAll(async () => {
  pki = await shimPki();
  echo = await tcpServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => s.write(d));
  });
  ({ pair, stillWorks: bystanderStillWorks } = await pairWithBystander());
});

afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await echo.close();
});

/** Talks straight to the server end: sends `bytes`, returns the frames it answered and whether it closed. */
async function raw(bytes: Uint8Array[], as: TlsMaterial = pki.client): Promise<{ frames: ShimFrame[]; closed: boolean; error: string | null }> {
  const socket = tls.connect({ host: '127.0.0.1', port: pair.server.port, key: as.keyPem, cert: as.certPem, ca: pki.client.caPem, checkServerIdentity: () => undefined });
  const d = new ShimDecoder();
  const out = { frames: [] as ShimFrame[], closed: false, error: null as string | null };
  socket.on('data', (c: Buffer) => out.frames.push(...d.push(c)));
  socket.on('error', (e) => (out.error = e.message));
  socket.on('close', () => (out.closed = true));
  await new Promise<void>((resolve) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', () => resolve());
  });
  for (const b of bytes) if (!socket.destroyed) socket.write(b);
  await waitFor('the server end to answer and close', () => out.closed);
  return out;
}

const hello = (h: Record<string, unknown>) => {
  const body = Buffer.from(JSON.stringify({ v: 1, service: 'svc', shim: 0, ...h }));
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
};
const firstCode = (r: { frames: ShimFrame[] }) => {
  const f = r.frames[0];
  return f && (f.type === 'REFUSE' || f.type === 'CLOSE') ? f.info.code : f?.type;
};

describe('bad input at the server end', () => {
  it('garbage: SHIM_E_MALFORMED, path closed, other sessions unaffected', async () => {
    const r = await raw([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expect(firstCode(r)).toBe('SHIM_E_MALFORMED');
    await bystanderStillWorks();
  });

  it('an oversized frame: SHIM_E_FRAME_TOO_LARGE on its header', async () => {
    const head = Buffer.alloc(5);
    head[0] = 4;
    head.writeUInt32BE(64 * 1024 * 1024, 1);
    const r = await raw([head]);
    expect(firstCode(r)).toBe('SHIM_E_FRAME_TOO_LARGE');
    await bystanderStillWorks();
  });

  it('a frame other than HELLO first: SHIM_E_PROTOCOL', async () => {
    const r = await raw(encodeFrame({ type: 'DATA', offset: 0, data: new Uint8Array([1]) }));
    expect(firstCode(r)).toBe('SHIM_E_PROTOCOL');
  });

  it('a resume of a live session with the wrong secret: SHIM_E_BAD_SECRET, and the session goes on', async () => {
    const id = [...pair.server.sessions.keys()][0] as string;
    const r = await raw([hello({ op: 'resume', session: id, secret: '0'.repeat(64), received: 0 })]);
    expect(firstCode(r)).toBe('SHIM_E_BAD_SECRET');
    expect(pair.events.some((e) => e.code === 'SHIM_E_BAD_SECRET' && e.session === id)).toBe(true);
    await bystanderStillWorks();
  });

  it('a resume of an unknown session: SHIM_E_UNKNOWN_SESSION', async () => {
    const r = await raw([hello({ op: 'resume', session: 'f'.repeat(32), secret: 'f'.repeat(64), received: 0 })]);
    expect(firstCode(r)).toBe('SHIM_E_UNKNOWN_SESSION');
  });

  it('a resume claiming more bytes than were sent: SHIM_E_PROTOCOL, the session unaffected', async () => {
    const s = [...pair.server.sessions.values()][0];
    const r = await raw([hello({ op: 'resume', session: s?.id, secret: s?.secret, received: 10 ** 12 })]);
    expect(firstCode(r)).toBe('SHIM_E_PROTOCOL');
    await bystanderStillWorks();
  });

  it('a resume of a session that finished normally: SHIM_E_ENDED (not "moved")', async () => {
    const known = new Set(pair.server.sessions.keys());
    const upstreams = new Set(echo.sockets);
    const c = net.connect({ host: '127.0.0.1', port: pair.client.port, allowHalfOpen: true });
    let echoed = '';
    c.on('data', (d: Buffer) => (echoed += d.toString()));
    c.on('end', () => c.end());
    c.write('z');
    const s = await waitFor('the new session', () => [...pair.server.sessions.values()].find((x) => !known.has(x.id)));
    const { id, secret } = s;
    await waitFor('the echo', () => echoed === 'z');
    // The echo server ends when its client does: both directions finish.
    for (const sock of echo.sockets) if (!upstreams.has(sock)) sock.end();
    await waitFor('the session to finish', () => !pair.server.sessions.has(id));
    const r = await raw([hello({ op: 'resume', session: id, secret, received: 1 })]);
    expect(firstCode(r)).toBe('SHIM_E_ENDED');
    await bystanderStillWorks();
  });

  it('a proof (the plain-path resume) over mutual TLS: SHIM_E_PROTOCOL, the session unaffected', async () => {
    const id = [...pair.server.sessions.keys()][0] as string;
    const r = await raw([hello({ op: 'prove', session: id, received: 0, nonce: 'a'.repeat(64), proof: 'b'.repeat(64) })]);
    expect(firstCode(r)).toBe('SHIM_E_PROTOCOL');
    await bystanderStillWorks();
  });

  it('an open for another shim: SHIM_E_UNKNOWN_SHIM', async () => {
    const r = await raw([hello({ op: 'open', shim: 5 })]);
    expect(firstCode(r)).toBe('SHIM_E_UNKNOWN_SHIM');
  });

  it('a manager certificate may not open sessions: SHIM_E_FORBIDDEN', async () => {
    const r = await raw([hello({ op: 'open' })], pki.manager);
    expect(firstCode(r)).toBe('SHIM_E_FORBIDDEN');
  });

  it('a certificate of another cluster does not get past the handshake', async () => {
    const r = await raw([hello({ op: 'open' })], pki.foreign);
    expect(r.frames).toEqual([]);
    await bystanderStillWorks();
  });
});

describe('a path that connects and says nothing', () => {
  it('is refused with SHIM_E_HALF_OPEN after the HELLO timeout; other sessions unaffected', async () => {
    const quiet = new ServerEnd('svc', 0, { ...pair.server.shim, port: 0 }, pki.server, '127.0.0.1', () => undefined, { helloTimeoutMs: 200 });
    await quiet.start();
    const socket = tls.connect({ host: '127.0.0.1', port: quiet.port, key: pki.client.keyPem, cert: pki.client.certPem, ca: pki.client.caPem, checkServerIdentity: () => undefined });
    const d = new ShimDecoder();
    const frames: ShimFrame[] = [];
    let closed = false;
    socket.on('data', (c: Buffer) => frames.push(...d.push(c)));
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    await waitFor('the silent path to be closed', () => closed, { timeoutMs: 3000 });
    expect(firstCode({ frames })).toBe('SHIM_E_HALF_OPEN');
    await quiet.stop();
    await bystanderStillWorks();
  });
});

describe('bad input at the client end', () => {
  it('a server end that answers garbage: the attempt fails with a code, and past brokenFor the program sees an orderly close', async () => {
    const fake = tls.createServer({ key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.server.caPem, requestCert: true }, (s) => {
      s.on('error', () => undefined);
      s.once('data', () => s.write(Buffer.from([0xee, 0, 0, 0, 1, 0])));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const events: Array<{ code: string | null; text: string }> = [];
    const port = (fake.address() as net.AddressInfo).port;
    const client = new ClientEnd('svc', 0, shimConfig({ brokenFor: '400ms' }), pki.client, { locate: () => ({ host: '127.0.0.1', port }) }, (e) => events.push(e));
    await client.start();
    const program = net.connect({ host: '127.0.0.1', port: client.port });
    const seen = { ended: false, errors: [] as string[] };
    program.on('end', () => (seen.ended = true));
    program.on('error', (e) => seen.errors.push(e.message));
    await waitFor('the orderly close', () => seen.ended, { timeoutMs: 5000 });
    expect(seen.errors).toEqual([]);
    expect(events.some((e) => e.code === 'SHIM_E_BROKEN_TOO_LONG')).toBe(true);
    program.destroy();
    await client.stop();
    await new Promise<void>((r) => fake.close(() => r()));
  });
});

describe('bad input on a plain path (transport tcp)', () => {
  let plain: ShimPair;
  let plainStillWorks: () => Promise<void>;
  beforeAll(async () => {
    ({ pair: plain, stillWorks: plainStillWorks } = await pairWithBystander({ transport: 'tcp' }));
  });

  /** Talks plain TCP straight to the server end's data port; `answer` gets its CHALLENGE. Returns all it said. */
  async function rawPlain(answer: (challenge: ShimFrame) => Uint8Array[]): Promise<ShimFrame[]> {
    const socket = net.connect({ host: '127.0.0.1', port: plain.server.dataPort });
    const d = new ShimDecoder();
    const frames: ShimFrame[] = [];
    let closed = false;
    socket.on('data', (c: Buffer) => {
      frames.push(...d.push(c));
      if (frames.length === 1) for (const b of answer(frames[0] as ShimFrame)) socket.write(b);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    await waitFor('the server end to answer and close', () => closed);
    expect(frames[0]?.type).toBe('CHALLENGE');
    return frames.slice(1);
  }
  const session = () => [...plain.server.sessions.values()][0] as { id: string; secret: string };
  const proofFor = (secret: string, serverNonce: string, clientNonce: string) =>
    proofOf(secret, { by: 'client', service: 'svc', shim: 0, session: session().id, serverNonce, clientNonce, received: 0 });
  const nonceOf = (f: ShimFrame) => (f.type === 'CHALLENGE' ? f.challenge.nonce : '');

  it('a proof made with a wrong secret: SHIM_E_BAD_SECRET, and the session goes on', async () => {
    const nonce = 'c'.repeat(64);
    const r = await rawPlain((ch) => encodeFrame({ type: 'HELLO', hello: { v: 1, op: 'prove', service: 'svc', shim: 0, session: session().id, received: 0, nonce, proof: proofFor('ab'.repeat(32), nonceOf(ch), nonce) } }));
    expect(firstCode({ frames: r })).toBe('SHIM_E_BAD_SECRET');
    expect(plain.events.some((e) => e.code === 'SHIM_E_BAD_SECRET' && e.session === session().id)).toBe(true);
    await plainStillWorks();
  });

  it('a proof seen on another path (another challenge) is worth nothing: SHIM_E_BAD_SECRET', async () => {
    const nonce = 'd'.repeat(64);
    const stale = proofFor(session().secret, 'e'.repeat(64), nonce);
    const r = await rawPlain(() => [hello({ op: 'prove', session: session().id, received: 0, nonce, proof: stale })]);
    expect(firstCode({ frames: r })).toBe('SHIM_E_BAD_SECRET');
    await plainStillWorks();
  });

  it('a plain path may not open a session, nor resume with the secret itself: SHIM_E_FORBIDDEN', async () => {
    expect(firstCode({ frames: await rawPlain(() => [hello({ op: 'open' })]) })).toBe('SHIM_E_FORBIDDEN');
    expect(firstCode({ frames: await rawPlain(() => [hello({ op: 'resume', session: session().id, secret: session().secret, received: 0 })]) })).toBe('SHIM_E_FORBIDDEN');
    await plainStillWorks();
  });

  it('garbage: SHIM_E_MALFORMED; a proof for an unknown session: SHIM_E_UNKNOWN_SESSION', async () => {
    expect(firstCode({ frames: await rawPlain(() => [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]) })).toBe('SHIM_E_MALFORMED');
    expect(firstCode({ frames: await rawPlain(() => [hello({ op: 'prove', session: 'f'.repeat(32), received: 0, nonce: 'f'.repeat(64), proof: 'f'.repeat(64) })]) })).toBe('SHIM_E_UNKNOWN_SESSION');
    await plainStillWorks();
  });
});
