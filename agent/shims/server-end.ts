import { randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type tls from 'node:tls';
import { ArmoryError } from '../../common/errors/armory-error.js';
import type { ErrorCode } from '../../common/errors/codes.js';
import { dataPortOf } from '../../common/config/service.js';
import type { Hello, ShimFrame } from '../../common/wire/shim-frame.js';
import { SESSION_ID_BYTES, SESSION_SECRET_BYTES } from '../../common/wire/shim-frame.js';
import type { PeerIdentity } from '../api/peer-identity.js';
import { startTlsServer, type TlsMaterial } from '../api/tls-server.js';
import type { ReplyBarrier, ReplyBarrierOf } from './reply-gate.js';
import { newNonce, proofMatches, proofOf } from './resume-proof.js';
import { serviceRelink, type ServiceProcess } from './service-relink.js';
import { Session, type SessionOwner } from './session.js';
import { parseHostPort, sessionBounds, type SessionBounds, type ShimConfig } from './shim-options.js';
import { ShimPath } from './shim-path.js';
import type { ShimJournal } from './client-end.js';

const HELLO_TIMEOUT_MS = 5000;
const TOMBSTONES = 1024;

/**
 * The server-side end of a shim, on the node where the service runs: a mutual-TLS listener for
 * the client ends of the cluster. An `open` gets a fresh connection to the real service and a new
 * session (id + secret, told only over this mutual-TLS path); a `resume` must name a live session
 * and present its secret, else it is refused with a code and nothing else is touched.
 *
 * With transport `tcp` the end also listens on a plain TCP port (dataPortOf): a session is still
 * opened over mutual TLS (which gives the client end its id and secret), but its data then comes
 * over plain paths, each of which must answer a fresh challenge with a proof made with the secret.
 */
export class ServerEnd implements SessionOwner {
  private server: tls.Server | null = null;
  private plain: net.Server | null = null;
  readonly sessions = new Map<string, Session>();
  /** Why recently ended sessions ended, so a late resume hears the real reason. */
  private readonly ended = new Map<string, ErrorCode>();
  private ticker: NodeJS.Timeout | null = null;
  private readonly bounds: SessionBounds;
  private readonly target: { host: string; port: number };
  private readonly helloTimeoutMs: number;
  /** With waitForMirror: what each session's replies wait for. */
  private readonly barrier: ReplyBarrier | null;
  /** onMove resend: the service's main process now (a session outlives its death), or null when it is not known. */
  private readonly serviceProcess: (() => ServiceProcess | null) | null;
  private stopped = false;

  /**
   * `barrierOf`: the service's mirror barrier (the agent's Mirrors.barrier), which a shim with
   * waitForMirror needs; without one such a shim gives no replies at all (each session is closed
   * with SHIM_E_MIRROR at the first), never replies the mirror did not confirm. `serviceProcess`
   * (the supervisor's main process of the service): with onMove resend a session whose service
   * connection was lost to the death of that process goes on over a new connection once the
   * service is back (see Session), instead of ending.
   */
  constructor(
    readonly service: string,
    readonly index: number,
    readonly shim: ShimConfig,
    private readonly material: TlsMaterial,
    private readonly host: string,
    private readonly journalTo: ShimJournal,
    options: { helloTimeoutMs?: number; barrierOf?: ReplyBarrierOf | null; serviceProcess?: (() => ServiceProcess | null) | null } = {},
  ) {
    this.bounds = sessionBounds(shim);
    this.target = parseHostPort(shim.target);
    this.helloTimeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    this.serviceProcess = options.serviceProcess ?? null;
    const barrierOf = options.barrierOf;
    this.barrier = !shim.waitForMirror
      ? null
      : barrierOf
        ? () => barrierOf(service)
        : () => Promise.reject(new ArmoryError('SHIM_E_MIRROR', 'this agent has no mirror barrier to give the shim'));
  }

  async start(): Promise<void> {
    this.server = await startTlsServer(this.material, { host: this.host, port: this.shim.port }, (socket, caller) => this.onPath(socket, caller));
    if (this.shim.transport === 'tcp') {
      const plain = net.createServer((socket) => this.onPlainPath(socket));
      await new Promise<void>((resolve, reject) => {
        plain.once('error', reject);
        plain.listen(dataPortOf(this.shim), this.host, () => {
          plain.off('error', reject);
          resolve();
        });
      });
      plain.on('error', () => undefined);
      this.plain = plain;
    }
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const s of this.sessions.values()) s.heartbeat(now);
    }, this.bounds.heartbeat);
    this.ticker.unref();
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : this.shim.port;
  }

  /** Where plain paths come in (transport tcp). */
  get dataPort(): number {
    const a = this.plain?.address();
    return a && typeof a === 'object' ? a.port : dataPortOf(this.shim);
  }

  /**
   * Closes every session and stops listening. `moved`: the service no longer runs on this node
   * (or the agent stops), so client ends whose onMove reopens go on to where it runs next.
   */
  async stop(moved = false): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const s of [...this.sessions.values()]) {
      if (moved) s.close('SHIM_E_MOVED', 'the service no longer runs on this node');
      else s.close('SHIM_E_UNKNOWN_SHIM', 'the shim was removed or the agent is stopping');
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.plain ? this.plain.close(() => resolve()) : resolve()));
  }

  reconnect(): void {
    // The client end comes back on its own; this end waits (bounded by brokenFor).
  }

  forget(session: Session, code: ErrorCode | null): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    // A session no path came for in time (transport tcp: the client end's open ran out of time
    // before the WELCOME, or it did not reach the plain port) leaves no tombstone: a late resume
    // hears "unknown session" and the client end, which has exchanged nothing yet, opens again.
    // Any other end (the service reset its connection, the shim stops) is told as it is.
    if (!session.everAttached && code === 'SHIM_E_BROKEN_TOO_LONG') return;
    // A session that finished normally is remembered too: its client end may have lost the path
    // just before it saw the end, and must hear "finished", not "moved".
    this.ended.set(session.id, code ?? 'SHIM_E_ENDED');
    if (this.ended.size > TOMBSTONES) this.ended.delete(this.ended.keys().next().value as string);
  }

  journal(session: Session | null, code: ErrorCode | null, text: string): void {
    this.journalTo({ service: this.service, end: 'server', session: session?.id ?? null, code, text });
  }

  private onPath(socket: tls.TLSSocket, caller: PeerIdentity): void {
    const path = new ShimPath(socket, this.shim.frameSize);
    const refuse = (code: ErrorCode, message: string) => {
      path.bind({ frame: () => undefined, gone: () => undefined });
      path.end({ type: 'REFUSE', info: { code, message } });
    };
    if (caller.role !== 'agent') {
      refuse('SHIM_E_FORBIDDEN', `a ${caller.role} certificate may not open shim sessions`);
      return;
    }
    // A path that connects and then says nothing (half-open, or a stray client) is not kept.
    const timer = setTimeout(() => {
      refuse('SHIM_E_HALF_OPEN', `no HELLO within ${this.helloTimeoutMs} ms`);
    }, this.helloTimeoutMs);
    timer.unref();
    path.bind({
      frame: (f: ShimFrame) => {
        clearTimeout(timer);
        if (f.type !== 'HELLO') {
          refuse('SHIM_E_PROTOCOL', `the first frame must be HELLO, not ${f.type}`);
          return;
        }
        path.bind({ frame: () => refuse('SHIM_E_PROTOCOL', 'frames before WELCOME'), gone: () => undefined });
        if (f.hello.op === 'prove') refuse('SHIM_E_PROTOCOL', 'a proof answers a challenge on a plain path; over mutual TLS, resume with the secret');
        else this.onHello(path, f.hello, refuse);
      },
      gone: () => clearTimeout(timer),
    });
  }

  /**
   * A plain TCP path (transport tcp): challenge first; the only HELLO taken is a `prove` of a live
   * session whose proof matches; the answer carries this end's proof, so the client end knows it
   * speaks to the end that holds the secret. Nothing is opened here.
   */
  private onPlainPath(socket: net.Socket): void {
    socket.on('error', () => undefined);
    const path = new ShimPath(socket, this.shim.frameSize);
    const refuse = (code: ErrorCode, message: string) => {
      path.bind({ frame: () => undefined, gone: () => undefined });
      path.end({ type: 'REFUSE', info: { code, message } });
    };
    const timer = setTimeout(() => refuse('SHIM_E_HALF_OPEN', `no HELLO within ${this.helloTimeoutMs} ms`), this.helloTimeoutMs);
    timer.unref();
    const serverNonce = newNonce();
    path.bind({
      frame: (f: ShimFrame) => {
        clearTimeout(timer);
        path.bind({ frame: () => refuse('SHIM_E_PROTOCOL', 'frames before WELCOME'), gone: () => undefined });
        if (f.type !== 'HELLO') refuse('SHIM_E_PROTOCOL', `the first frame must be HELLO, not ${f.type}`);
        else if (f.hello.op !== 'prove') refuse('SHIM_E_FORBIDDEN', 'sessions are opened and resumed with their secret over mutual TLS only; a plain path must prove');
        else this.onProof(path, f.hello, serverNonce, refuse);
      },
      gone: () => clearTimeout(timer),
    });
    path.send({ type: 'CHALLENGE', challenge: { nonce: serverNonce } });
  }

  private onProof(path: ShimPath, hello: Extract<Hello, { op: 'prove' }>, serverNonce: string, refuse: (code: ErrorCode, message: string) => void): void {
    if (hello.service !== this.service || hello.shim !== this.index) {
      refuse('SHIM_E_UNKNOWN_SHIM', `this end serves ${this.service} shim ${this.index}, not ${hello.service} shim ${hello.shim}`);
      return;
    }
    const fields = { service: this.service, shim: this.index, session: hello.session, serverNonce, clientNonce: hello.nonce };
    const session = this.resumable(hello, (s) => proofMatches(s.secret, { ...fields, by: 'client', received: hello.received }, hello.proof), 'proof', refuse);
    if (!session) return;
    const received = session.receivedOffset;
    path.send({ type: 'WELCOME', welcome: { session: session.id, received, proof: proofOf(session.secret, { ...fields, by: 'server', received }) } });
    session.attach(path, hello.received);
  }

  /**
   * The live session a resume names, once its credential (the secret, or a proof made with it)
   * checks out and the count it claims is possible; else the resume is refused and null returned.
   * A wrong credential leaves the session as it was.
   */
  private resumable(hello: { session: string; received: number }, credentialOk: (s: Session) => boolean, what: 'secret' | 'proof', refuse: (code: ErrorCode, message: string) => void): Session | null {
    const session = this.sessions.get(hello.session);
    if (!session) {
      const code = this.ended.get(hello.session) ?? 'SHIM_E_UNKNOWN_SESSION';
      refuse(code, code === 'SHIM_E_UNKNOWN_SESSION' ? 'no session of that id here' : 'that session has ended');
      return null;
    }
    if (!credentialOk(session)) {
      this.journal(session, 'SHIM_E_BAD_SECRET', `a resume with a wrong ${what} was refused; the session is unaffected`);
      refuse('SHIM_E_BAD_SECRET', `the ${what} does not match the session`);
      return null;
    }
    if (!session.acceptsPeerReceived(hello.received)) {
      refuse('SHIM_E_PROTOCOL', `the resume claims ${hello.received} bytes received, more than were sent`);
      return null;
    }
    return session;
  }

  private onHello(path: ShimPath, hello: Hello, refuse: (code: ErrorCode, message: string) => void): void {
    if (hello.service !== this.service || hello.shim !== this.index) {
      refuse('SHIM_E_UNKNOWN_SHIM', `this end serves ${this.service} shim ${this.index}, not ${hello.service} shim ${hello.shim}`);
      return;
    }
    if (hello.op === 'resume') {
      const session = this.resumable(hello, (s) => sameSecret(s.secret, hello.secret), 'secret', refuse);
      if (!session) return;
      path.send({ type: 'WELCOME', welcome: { session: session.id, received: session.receivedOffset } });
      session.attach(path, hello.received);
      return;
    }
    if (this.sessions.size >= this.bounds.maxSessions) {
      refuse('SHIM_E_TOO_MANY_SESSIONS', `this end already carries ${this.sessions.size} sessions (maxSessions)`);
      return;
    }
    let session: Session | null = null;
    // Waits for the service (to be ready, to be back); they end with this end or with the session (its client closed it).
    const relink = this.serviceProcess ? serviceRelink(this.target, this.serviceProcess, this.bounds.brokenFor, () => this.stopped || session?.state === 'closed') : null;
    const open = (upstream: net.Socket, serviceLater?: Promise<net.Socket>) => {
      const s = new Session('server', upstream, this.bounds, this, { barrier: this.barrier, onMove: this.shim.onMove, relink: this.shim.onMove === 'resend' ? relink : null, ...(serviceLater ? { serviceLater } : {}) });
      session = s;
      s.id = randomBytes(SESSION_ID_BYTES).toString('hex');
      s.secret = randomBytes(SESSION_SECRET_BYTES).toString('hex');
      this.sessions.set(s.id, s);
      path.send({ type: 'WELCOME', welcome: { session: s.id, secret: s.secret, received: 0 } });
      if (this.shim.transport === 'tcp') {
        // The data comes over a plain path the client end opens next; this one has done its job.
        path.end();
        s.awaitPath(this.helloTimeoutMs);
      } else s.attach(path, 0);
    };
    // The service was started here but is not ready yet (a failover's new active node, a restart):
    // connected now, redis would answer `-LOADING`. The session is opened at once (the client end
    // waits for its WELCOME only so long) and connected to the service once the supervisor says it
    // is ready; the client's bytes wait meanwhile (an unconnected socket stands in).
    const now = this.serviceProcess?.() ?? null;
    if (relink && now !== null && !now.ready) {
      open(new net.Socket(), relink.connect('ready'));
      return;
    }
    const upstream = net.connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    const onError = (e: Error) => refuse('SHIM_E_TARGET', `cannot reach the service at ${this.shim.target}: ${e.message}`);
    upstream.once('error', onError);
    upstream.once('connect', () => {
      upstream.off('error', onError);
      if (!path.open) {
        upstream.destroy();
        return;
      }
      open(upstream);
    });
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
