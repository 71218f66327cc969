import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { dataPortOf } from '../../common/config/service.js';
import type { ErrorCode } from '../../common/errors/codes.js';
import { SHIM_PROTOCOL, type ShimFrame } from '../../common/wire/shim-frame.js';
import { identityOf } from '../api/peer-identity.js';
import type { TlsMaterial } from '../api/tls-server.js';
import { attemptTimeouts, reconnectDelay, reconnectPolicy, type ReconnectPolicy } from './reconnect-policy.js';
import { newNonce, proofMatches, proofOf } from './resume-proof.js';
import type { ServerLocator } from './server-locator.js';
import { MOVED_CLOSES, Session, type SessionOwner } from './session.js';
import { parseHostPort, sessionBounds, type SessionBounds, type ShimConfig } from './shim-options.js';
import { ShimPath } from './shim-path.js';

/** What the shim ends tell the agent's journal. */
export type ShimJournal = (e: { service: string; end: 'client' | 'server'; session: string | null; code: ErrorCode | null; text: string }) => void;

interface Attempts {
  tries: number;
  timedOut: number;
  timer: NodeJS.Timeout | null;
  socket: net.Socket | null;
}

/** Errors of a refused open or resume that mean "try again later" rather than "give up". */
const RETRYABLE: ReadonlySet<string> = new Set(['SHIM_E_TARGET', 'SHIM_E_UNKNOWN_SHIM']);

/**
 * The client-side end of a shim: listens where the client program connects and carries each
 * accepted connection as a session to the server end (found through the locator: the VIP, or the
 * active node). A broken path is repaired by reconnecting with backoff and resuming; a server end
 * that does not know the session (the service moved) gets the shim's onMove policy.
 */
export class ClientEnd implements SessionOwner {
  private server: net.Server | null = null;
  readonly sessions = new Set<Session>();
  /** Per session: attempts since it last had a path, how many of them ran out of time, the pending retry or attempt. */
  private readonly attempts = new Map<Session, Attempts>();
  private ticker: NodeJS.Timeout | null = null;
  private readonly bounds: SessionBounds;
  private readonly policy: ReconnectPolicy;

  constructor(
    readonly service: string,
    readonly index: number,
    readonly shim: ShimConfig,
    private readonly material: TlsMaterial,
    private readonly locator: ServerLocator,
    private readonly journalTo: ShimJournal,
  ) {
    this.bounds = sessionBounds(shim);
    this.policy = reconnectPolicy(this.bounds.heartbeat);
  }

  async start(): Promise<void> {
    const { host, port } = parseHostPort(this.shim.listen);
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.onClient(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    this.server = server;
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const s of this.sessions) s.heartbeat(now);
    }, this.bounds.heartbeat);
    this.ticker.unref();
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    for (const s of [...this.sessions]) s.close('SHIM_E_UNKNOWN_SHIM', 'the shim was removed or the agent is stopping');
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private onClient(socket: net.Socket): void {
    if (this.sessions.size >= this.bounds.maxSessions) {
      this.journal(null, 'SHIM_E_TOO_MANY_SESSIONS', `a client connection was closed: ${this.sessions.size} sessions already (maxSessions)`);
      socket.on('error', () => undefined);
      socket.end();
      return;
    }
    const session = new Session('client', socket, this.bounds, this, { onMove: this.shim.onMove });
    this.sessions.add(session);
    this.attempts.set(session, { tries: 0, timedOut: 0, timer: null, socket: null });
    this.attempt(session);
  }

  reconnect(session: Session): void {
    const a = this.attempts.get(session);
    if (!a || a.timer || a.socket) return;
    const delay = reconnectDelay(this.policy, a.tries, Math.random());
    a.timer = setTimeout(() => {
      a.timer = null;
      this.attempt(session);
    }, delay);
  }

  forget(session: Session): void {
    this.sessions.delete(session);
    const a = this.attempts.get(session);
    if (a?.timer) clearTimeout(a.timer);
    a?.socket?.destroy();
    this.attempts.delete(session);
  }

  journal(session: Session | null, code: ErrorCode | null, text: string): void {
    this.journalTo({ service: this.service, end: 'client', session: session?.id || null, code, text });
  }

  /**
   * One try at a path: connect over mutual TLS, HELLO (open or resume), wait for WELCOME or REFUSE.
   * With transport tcp a session that has its id and secret resumes over a plain path instead
   * (challenge, proof, WELCOME with the server end's proof).
   */
  private attempt(session: Session): void {
    const a = this.attempts.get(session);
    if (!a || session.state === 'closed') return;
    a.tries += 1;
    const where = this.locator.locate(this.service, this.shim);
    if (!where) {
      session.attemptFailed('SHIM_E_HALF_OPEN', `no node is known to run ${this.service}`);
      return;
    }
    if (this.shim.transport === 'tcp' && session.id) {
      this.attemptPlain(session, a, { host: where.host, port: where.tcpPort ?? dataPortOf(this.shim) });
      return;
    }
    const socket = tls.connect({
      host: where.host,
      port: where.port,
      key: this.material.keyPem,
      cert: this.material.certPem,
      ca: this.material.caPem,
      minVersion: 'TLSv1.3',
      // The server end is an agent of this cluster (its certificate from the cluster CA names it);
      // the address it is reached at (a VIP) need not appear in its certificate.
      checkServerIdentity: (_host, cert) => {
        const id = identityOf(new X509Certificate(cert.raw));
        return id?.role === 'agent' ? undefined : new Error('the server end does not hold an agent certificate of this cluster');
      },
    });
    const { fail, settle } = this.guard(session, a, socket, where);
    socket.once('secureConnect', () => {
      const path = new ShimPath(socket, this.shim.frameSize);
      path.bind({
        frame: (f: ShimFrame) => {
          if (settle()) this.onAnswer(session, path, f);
        },
        gone: (why) => fail(why.code === 'SHIM_E_HALF_OPEN' ? 'SHIM_E_HALF_OPEN' : why.code, why.message),
      });
      path.send({
        type: 'HELLO',
        hello: session.id
          ? { v: SHIM_PROTOCOL, op: 'resume', service: this.service, shim: this.index, session: session.id, secret: session.secret, received: session.receivedOffset }
          : { v: SHIM_PROTOCOL, op: 'open', service: this.service, shim: this.index },
      });
    });
  }

  /**
   * Bounds one attempt (see reconnect-policy): the TCP connect within its timeout, an answer
   * within the attempt's; errors reported once. `fail` gives the attempt up; `settle` (true only
   * the first time) marks it answered.
   */
  private guard(session: Session, a: Attempts, socket: net.Socket, where: { host: string; port: number }) {
    a.socket = socket;
    const { connectMs, answerMs } = attemptTimeouts(this.policy, a.timedOut);
    let settled = false;
    const outOfTime = (text: string) => {
      if (!settled) a.timedOut += 1;
      fail('SHIM_E_HALF_OPEN', text);
    };
    const connectTimer = setTimeout(() => outOfTime(`no connection to ${where.host}:${where.port} within ${connectMs} ms`), connectMs);
    const timer = setTimeout(() => outOfTime(`no answer from ${where.host}:${where.port} within ${answerMs} ms`), answerMs);
    connectTimer.unref();
    timer.unref();
    socket.once('connect', () => clearTimeout(connectTimer));
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(timer);
      a.socket = null;
      return true;
    };
    const fail = (code: ErrorCode, message: string) => {
      if (!settle()) return;
      socket.destroy();
      session.attemptFailed(code, message);
    };
    socket.once('error', (e) => fail('SHIM_E_HALF_OPEN', `cannot reach the server end at ${where.host}:${where.port}: ${e.message}`));
    return { fail, settle };
  }

  /** A plain TCP path (transport tcp): wait for the CHALLENGE, prove, check the server end's proof. */
  private attemptPlain(session: Session, a: Attempts, where: { host: string; port: number }): void {
    const socket = net.connect({ host: where.host, port: where.port });
    const { fail, settle } = this.guard(session, a, socket, where);
    socket.once('connect', () => {
      const path = new ShimPath(socket, this.shim.frameSize);
      const clientNonce = newNonce();
      let serverNonce: string | null = null;
      path.bind({
        frame: (f: ShimFrame) => {
          if (serverNonce === null) {
            if (f.type !== 'CHALLENGE') return fail(f.type === 'REFUSE' ? (f.info.code as ErrorCode) : 'SHIM_E_PROTOCOL', `the server end did not challenge the plain path (${f.type})`);
            serverNonce = f.challenge.nonce;
            const received = session.receivedOffset;
            const proof = proofOf(session.secret, { by: 'client', service: this.service, shim: this.index, session: session.id, serverNonce, clientNonce, received });
            path.send({ type: 'HELLO', hello: { v: SHIM_PROTOCOL, op: 'prove', service: this.service, shim: this.index, session: session.id, received, nonce: clientNonce, proof } });
            return;
          }
          if (!settle()) return;
          if (f.type === 'WELCOME') {
            const fields = { by: 'server' as const, service: this.service, shim: this.index, session: session.id, serverNonce, clientNonce, received: f.welcome.received };
            if (!f.welcome.proof || !proofMatches(session.secret, fields, f.welcome.proof)) {
              path.destroy();
              session.attemptFailed('SHIM_E_BAD_SECRET', 'the server end on the plain path could not prove it knows the session secret');
              return;
            }
          }
          this.onAnswer(session, path, f);
        },
        gone: (why) => fail(why.code, why.message),
      });
    });
  }

  private onAnswer(session: Session, path: ShimPath, f: ShimFrame): void {
    const a = this.attempts.get(session);
    if (f.type === 'WELCOME') {
      const w = f.welcome;
      if (!session.id) {
        if (!w.secret) {
          path.destroy();
          session.close('SHIM_E_PROTOCOL', 'the server end opened a session without a secret');
          return;
        }
        session.id = w.session;
        session.secret = w.secret;
        if (this.shim.transport === 'tcp') {
          // Opened over mutual TLS; the data goes over a plain path, proved with the secret.
          path.destroy();
          if (a) a.tries = a.timedOut = 0;
          this.attempt(session);
          return;
        }
      } else if (w.session !== session.id || !session.acceptsPeerReceived(w.received)) {
        path.destroy();
        session.close('SHIM_E_PROTOCOL', 'the server end answered the resume with another session or an impossible count');
        return;
      }
      if (a) a.tries = a.timedOut = 0;
      session.attach(path, w.received);
      return;
    }
    path.destroy();
    if (f.type !== 'REFUSE') {
      session.attemptFailed('SHIM_E_PROTOCOL', `the server end answered with ${f.type}`);
      return;
    }
    const code = f.info.code as ErrorCode;
    if (session.id && code === 'SHIM_E_UNKNOWN_SESSION' && session.state === 'connecting') {
      // Opened (transport tcp) but no plain path ever attached: nothing went either way, and the
      // server end let the session go. Open again; what the program wrote so far stays buffered.
      this.journal(session, code, 'the server end let go of the session before its first plain path came; opening again (nothing was exchanged yet)');
      session.id = '';
      session.secret = '';
      session.attemptFailed(code, f.info.message);
    } else if (session.id && (code === 'SHIM_E_UNKNOWN_SESSION' || (session.onMove === 'resend' && session.state !== 'connecting' && MOVED_CLOSES.has(code)))) {
      // The server end does not know the session, or (resend) ended it because the service left its node.
      session.dispatch({ type: 'moved', policy: session.movePolicy });
    }
    // The server end finished the session (everything both ways delivered and acknowledged) while our path was down.
    else if (session.id && code === 'SHIM_E_ENDED') session.dispatch({ type: 'finished' });
    else if (RETRYABLE.has(code)) session.attemptFailed(code, f.info.message);
    else session.dispatch({ type: 'abort', code, message: `the server end refused the session: ${f.info.message}`, tellPeer: false });
  }
}
