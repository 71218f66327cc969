import { randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type tls from 'node:tls';
import type { ErrorCode } from '../../common/errors/codes.js';
import type { Hello, ShimFrame } from '../../common/wire/shim-frame.js';
import { SESSION_ID_BYTES, SESSION_SECRET_BYTES } from '../../common/wire/shim-frame.js';
import type { PeerIdentity } from '../api/peer-identity.js';
import { startTlsServer, type TlsMaterial } from '../api/tls-server.js';
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
 */
export class ServerEnd implements SessionOwner {
  private server: tls.Server | null = null;
  readonly sessions = new Map<string, Session>();
  /** Why recently ended sessions ended, so a late resume hears the real reason. */
  private readonly ended = new Map<string, ErrorCode>();
  private ticker: NodeJS.Timeout | null = null;
  private readonly bounds: SessionBounds;
  private readonly target: { host: string; port: number };

  constructor(
    readonly service: string,
    readonly index: number,
    readonly shim: ShimConfig,
    private readonly material: TlsMaterial,
    private readonly host: string,
    private readonly journalTo: ShimJournal,
    private readonly helloTimeoutMs = HELLO_TIMEOUT_MS,
  ) {
    this.bounds = sessionBounds(shim);
    this.target = parseHostPort(shim.target);
  }

  async start(): Promise<void> {
    this.server = await startTlsServer(this.material, { host: this.host, port: this.shim.port }, (socket, caller) => this.onPath(socket, caller));
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

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    for (const s of [...this.sessions.values()]) s.close('SHIM_E_UNKNOWN_SHIM', 'the shim was removed or the agent is stopping');
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  reconnect(): void {
    // The client end comes back on its own; this end waits (bounded by brokenFor).
  }

  forget(session: Session, code: ErrorCode | null): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
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
        this.onHello(path, f.hello, refuse);
      },
      gone: () => clearTimeout(timer),
    });
  }

  private onHello(path: ShimPath, hello: Hello, refuse: (code: ErrorCode, message: string) => void): void {
    if (hello.service !== this.service || hello.shim !== this.index) {
      refuse('SHIM_E_UNKNOWN_SHIM', `this end serves ${this.service} shim ${this.index}, not ${hello.service} shim ${hello.shim}`);
      return;
    }
    if (hello.op === 'resume') {
      const session = this.sessions.get(hello.session);
      if (!session) {
        const code = this.ended.get(hello.session) ?? 'SHIM_E_UNKNOWN_SESSION';
        refuse(code, code === 'SHIM_E_UNKNOWN_SESSION' ? 'no session of that id here' : 'that session has ended');
        return;
      }
      if (!sameSecret(session.secret, hello.secret)) {
        this.journal(session, 'SHIM_E_BAD_SECRET', 'a resume with a wrong secret was refused; the session is unaffected');
        refuse('SHIM_E_BAD_SECRET', 'the secret does not match the session');
        return;
      }
      if (!session.acceptsPeerReceived(hello.received)) {
        refuse('SHIM_E_PROTOCOL', `the resume claims ${hello.received} bytes received, more than were sent`);
        return;
      }
      path.send({ type: 'WELCOME', welcome: { session: session.id, received: session.receivedOffset } });
      session.attach(path, hello.received);
      return;
    }
    if (this.sessions.size >= this.bounds.maxSessions) {
      refuse('SHIM_E_TOO_MANY_SESSIONS', `this end already carries ${this.sessions.size} sessions (maxSessions)`);
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
      const session = new Session('server', upstream, this.bounds, this);
      session.id = randomBytes(SESSION_ID_BYTES).toString('hex');
      session.secret = randomBytes(SESSION_SECRET_BYTES).toString('hex');
      this.sessions.set(session.id, session);
      path.send({ type: 'WELCOME', welcome: { session: session.id, secret: session.secret, received: 0 } });
      session.attach(path, 0);
    });
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
