import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Session, type SessionOwner } from '../../../../agent/shims/session.js';
import { sessionBounds } from '../../../../agent/shims/shim-options.js';
import { ShimPath } from '../../../../agent/shims/shim-path.js';
import type { ErrorCode } from '../../../../common/errors/codes.js';
import { ShimDecoder } from '../../../../common/wire/shim-decoder.js';
import { encodeFrame, type ShimFrame } from '../../../../common/wire/shim-frame.js';
import { shimConfig } from '../../../helpers/shim-rig.js';
import { sleep, waitFor } from '../../../helpers/wait.js';

/*
 * One session driven frame by frame over real loopback sockets, for the interleavings of a resume
 * that the stream tests only hit by chance: a stale path that still delivers after a new one was
 * attached, a replay that overlaps what arrived, a gap, a replay from the count the peer gives.
 * Each asserts the bytes the local program gets (or the peer is sent) are exactly the stream's.
 */

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** Two connected loopback sockets. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const a = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, allowHalfOpen: true });
  const b = await accepted;
  await new Promise<void>((r) => (a.connecting ? a.once('connect', () => r()) : r()));
  server.close();
  for (const s of [a, b]) {
    s.on('error', () => undefined);
    closers.push(() => s.destroy());
  }
  return [a, b];
}

/** The peer's side of a path: writes frames, collects what the session sends. */
async function peerPath(): Promise<{ path: ShimPath; send(f: ShimFrame): void; frames: ShimFrame[]; closed: () => boolean }> {
  const [ours, theirs] = await socketPair();
  const path = new ShimPath(ours, 64 * 1024);
  const d = new ShimDecoder();
  const frames: ShimFrame[] = [];
  let closed = false;
  theirs.on('data', (c: Buffer) => frames.push(...d.push(c)));
  theirs.on('close', () => (closed = true));
  return { path, send: (f) => theirs.write(Buffer.concat(encodeFrame(f))), frames, closed: () => closed };
}

/** A session whose local program is the other end of a loopback socket. */
async function session(role: 'client' | 'server' = 'server') {
  const [local, program] = await socketPair();
  const got: Buffer[] = [];
  program.on('data', (d: Buffer) => got.push(d));
  const ended: Array<ErrorCode | null> = [];
  const journal: string[] = [];
  const owner: SessionOwner = { reconnect: () => undefined, forget: (_s, code) => ended.push(code), journal: (_s, _c, text) => journal.push(text) };
  const s = new Session(role, local, sessionBounds(shimConfig({ heartbeat: '1s', brokenFor: '30s' })), owner);
  closers.push(() => s.close('SHIM_E_ABORTED', 'test over'));
  return { s, program, delivered: () => Buffer.concat(got).toString(), ended, journal };
}

const data = (offset: number, text: string): ShimFrame => ({ type: 'DATA', offset, data: Buffer.from(text) });
const sent = (frames: ShimFrame[]) => {
  // What the frames carry, laid out at their offsets: a replay must start where the peer's count ends.
  let out = '';
  for (const f of frames) if (f.type === 'DATA') out = out.slice(0, f.offset) + Buffer.from(f.data).toString() + out.slice(f.offset + f.data.length);
  return out;
};

/** A session that got `first` over path a and was then resumed over path b (the peer's count 0). */
async function resumedAfter(first: string) {
  const x = await session();
  const a = await peerPath();
  x.s.attach(a.path, 0);
  a.send(data(0, first));
  await waitFor('the first bytes', () => x.delivered() === first);
  const b = await peerPath();
  x.s.attach(b.path, 0);
  return { ...x, a, b };
}

/** A session whose program sent '0123456789' over path a, of which the peer acknowledged `acked` bytes. */
async function sentAndAcked(acked: number) {
  const x = await session();
  const a = await peerPath();
  x.s.attach(a.path, 0);
  x.program.write('0123456789');
  await waitFor('the transmission', () => sent(a.frames) === '0123456789');
  a.send({ type: 'ACK', received: acked });
  await waitFor('the acknowledgement', () => x.s.counts.buffered === 10 - acked);
  return x;
}

describe('a session fed frame by frame', () => {
  it('a replay overlapping what arrived is trimmed: the program gets each byte once, in order', async () => {
    const { s, b, delivered } = await resumedAfter('abcdef');
    b.send(data(3, 'defghi')); // the peer replays from an older count
    b.send(data(0, 'abc')); // wholly old
    b.send(data(9, 'jk'));
    await waitFor('the rest', () => delivered().length >= 11);
    await sleep(50);
    expect(delivered()).toBe('abcdefghijk');
    expect(s.counts.received).toBe(11);
  });

  it('a gap is refused: the session closes with SHIM_E_PROTOCOL and the program gets nothing past the gap', async () => {
    const { s, delivered, ended } = await session();
    const a = await peerPath();
    s.attach(a.path, 0);
    a.send(data(0, 'abc'));
    a.send(data(5, 'XYZ'));
    await waitFor('the session to close', () => ended.length === 1);
    expect(ended).toEqual(['SHIM_E_PROTOCOL']);
    expect(delivered()).toBe('abc');
  });

  it('a stale path that still delivers after a new one was attached is not heard: only the new path\'s bytes arrive', async () => {
    const { a, b, delivered } = await resumedAfter('abc');
    // Frames from the old path, written after the new one was attached (a late peer, a relay
    // that still forwards): other bytes at the same offsets must never reach the program.
    a.send(data(3, 'XXX'));
    a.send({ type: 'ACK', received: 0 });
    b.send(data(3, 'def'));
    await waitFor('the new path\'s bytes', () => delivered().length >= 6);
    await sleep(50);
    expect(delivered()).toBe('abcdef');
    await waitFor('the old path to be closed', () => a.closed());
  });

  it('a path given up on by the owner before it attached delivers nothing when its frames come later', async () => {
    const { s, delivered } = await session();
    const late = await peerPath();
    late.path.bind({ frame: () => undefined, gone: () => undefined }); // the handshake's handler, given up on
    late.path.destroy();
    const b = await peerPath();
    s.attach(b.path, 0);
    late.send(data(0, 'XXX'));
    b.send(data(0, 'abc'));
    await waitFor('the bytes', () => delivered().length >= 3);
    await sleep(50);
    expect(delivered()).toBe('abc');
  });

  it('after a resume our stream is replayed from exactly the count the peer gives, once, and acknowledgements drop only what the peer has', async () => {
    const { s, program } = await sentAndAcked(2);
    const b = await peerPath();
    s.attach(b.path, 4); // the peer had 4 bytes when the path broke
    program.write('abc');
    await waitFor('the replay and the new bytes', () => b.frames.filter((f) => f.type === 'DATA').reduce((n, f) => n + (f.type === 'DATA' ? f.data.length : 0), 0) >= 9);
    await sleep(50);
    const replay = b.frames.filter((f): f is Extract<ShimFrame, { type: 'DATA' }> => f.type === 'DATA');
    expect(replay[0]?.offset).toBe(4);
    expect(replay.map((f) => Buffer.from(f.data).toString()).join('')).toBe('456789abc');
    // Each byte offset once, in order, no gap.
    let at = 4;
    for (const f of replay) {
      expect(f.offset).toBe(at);
      at += f.data.length;
    }
    expect(s.counts.buffered).toBe(9);
  });

  it('a resume claiming more than was sent, or less than was acknowledged, is not possible', async () => {
    const { s } = await sentAndAcked(6);
    expect(s.acceptsPeerReceived(5)).toBe(false);
    expect(s.acceptsPeerReceived(6)).toBe(true);
    expect(s.acceptsPeerReceived(10)).toBe(true);
    expect(s.acceptsPeerReceived(11)).toBe(false);
  });
});
