import type net from 'node:net';
import type { ErrorCode } from '../../common/errors/codes.js';
import { step } from '../../common/fsm/table.js';
import type { ShimFrame } from '../../common/wire/shim-frame.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { ReplayBuffer } from './replay-buffer.js';
import { ReplyGate, type ReplyBarrier } from './reply-gate.js';
import { SESSION_TABLE, type SessionCtx, type SessionEffect, type SessionEvent, type SessionState } from './session-table.js';
import type { SessionBounds } from './shim-options.js';
import type { ShimPath } from './shim-path.js';
import { Unanswered } from './unanswered.js';

const ACK_DELAY_MS = 5;
const LINGER_MS = 5000;

/** What a session asks of the end that owns it. */
export interface SessionOwner {
  /** Client end: find a path again (with backoff). Server end: nothing, it waits for a resume. */
  reconnect(session: Session): void;
  /** The session is over: drop it (`code` says why when it did not finish normally). */
  forget(session: Session, code: ErrorCode | null): void;
  journal(session: Session, code: ErrorCode | null, text: string): void;
}

/** Server end, onMove resend: how a connection to the service is replaced when the service's process died. */
export interface ServiceRelink {
  /** True when the service's process that held the connection died (crash, kill, stop), not when the service chose to close it. */
  died(): boolean;
  /**
   * A connection to the service once it is ready: 'new', a process other than the one the last
   * connection was made with (after its death); 'ready', whatever process runs (a new session
   * while the service is starting). Rejects when that does not happen in time or the service no
   * longer runs here.
   */
  connect(which: 'new' | 'ready'): Promise<net.Socket>;
}

/** What the server end closes (or refuses) a session with that a client end with onMove resend takes as "the service moved": it reopens and sends its request again. */
export const MOVED_CLOSES: ReadonlySet<string> = new Set(['SHIM_E_MOVED', 'SHIM_E_MIRROR', 'SHIM_E_UNKNOWN_SHIM']);

/** Moves in a row with no reply in between after which a resend gives up (a server end that closes every new session would be reopened forever). */
const MAX_UNANSWERED_MOVES = 3;

/**
 * One client connection carried as a resumable session. Each direction is a numbered byte
 * stream: what the local program writes goes into the replay buffer and out as DATA frames; what
 * the peer sends is written to the local program in order and acknowledged once the program's
 * socket took it (so a slow reader holds back acknowledgements, the peer's replay buffer fills and
 * the peer stops reading from its own program: flow control end to end). On a new path both sides
 * exchange how much they received and replay the rest.
 */
export class Session {
  id = '';
  secret = '';
  private stateNow: SessionState;
  private ctx: SessionCtx;
  private path: ShimPath | null = null;
  private readonly out: ReplayBuffer;
  /** Offset up to which the current path has been given our data. */
  private transmitted = 0;
  /** Bytes of the peer's stream handed to the local program / flushed into its socket. */
  private received = 0;
  private flushed = 0;
  private ackSent = -1;
  private ackTimer: NodeJS.Timeout | null = null;
  private ackTimerUrgent = false;
  /** Our program shut down writing at this offset (null: not yet). */
  private finOut: number | null = null;
  private finOutAcked = false;
  /** The peer's stream ended at this offset and the local program was told. */
  private finIn: number | null = null;
  private localPaused = false;
  private localGone = false;
  private brokenTimer: NodeJS.Timeout | null = null;
  /** Server end with waitForMirror: how far our stream may go out (null: all of it, at once). */
  private readonly gate: ReplyGate | null;
  /** A path was attached at least once (the client end showed it holds the session's WELCOME). */
  private attachedOnce = false;
  /**
   * onMove resend: the client program's bytes since the service last answered (client end), or
   * the client's bytes given to the service since it last answered (server end).
   */
  private readonly unanswered: Unanswered | null;
  /** Server end, onMove resend: replaces the service connection when the service's process died. */
  private readonly relink: ServiceRelink | null;
  /** Server end: while the service connection is being replaced, the client's bytes that arrive meanwhile (null: not replacing). */
  private relinkQueue: Buffer[] | null = null;
  /** Client end, onMove resend: reopens since the service last answered. */
  private movesUnanswered = 0;
  readonly openedAt = Date.now();
  readonly onMove: 'close' | 'reopen' | 'resend';

  /**
   * `barrier` (server end, shim option waitForMirror): what the service sends reaches the client
   * only once the barrier confirmed every write the service made before sending it.
   */
  constructor(
    readonly role: 'client' | 'server',
    private local: net.Socket,
    readonly bounds: SessionBounds,
    private readonly owner: SessionOwner,
    options: { barrier?: ReplyBarrier | null; onMove?: 'close' | 'reopen' | 'resend'; relink?: ServiceRelink | null; serviceLater?: Promise<net.Socket> } = {},
  ) {
    this.out = new ReplayBuffer(bounds.buffer);
    this.onMove = options.onMove ?? 'close';
    this.unanswered = this.onMove === 'resend' ? new Unanswered(bounds.buffer) : null;
    this.relink = role === 'server' && this.onMove === 'resend' ? (options.relink ?? null) : null;
    this.stateNow = 'connecting';
    this.ctx = { role, resumes: 0 };
    this.gate = options.barrier
      ? new ReplyGate(options.barrier, {
          released: () => this.pump(),
          failed: (e) => {
            const why = e instanceof ArmoryError ? `${e.code}: ${e.message}` : (e as Error).message;
            this.dispatch({ type: 'abort', code: 'SHIM_E_MIRROR', message: `the mirror cannot confirm the service's writes, so its replies are not given to the client (${why})`, tellPeer: true, deliver: true });
          },
        })
      : null;
    this.bindLocal(local);
    if (role === 'client') this.startBrokenTimer();
    // Server end, the service not ready yet: `local` stands in until the connection comes; the client's bytes wait.
    if (options.serviceLater) {
      this.relinkQueue = [];
      this.swapLocal(options.serviceLater, [], 'the service is ready: the session is connected to it', (e) => `the service did not become ready on this node: ${e.message}`);
    }
  }

  get state(): SessionState {
    return this.stateNow;
  }

  get resumes(): number {
    return this.ctx.resumes;
  }

  /** Bytes each way so far (for tests and status). */
  get counts(): { sent: number; received: number; buffered: number } {
    return { sent: this.out.end, received: this.received, buffered: this.out.bytes };
  }

  /** What to tell the other end in a HELLO or WELCOME: how much of its stream arrived. */
  get receivedOffset(): number {
    return this.received;
  }

  /** The acknowledgement an end may give: everything up to what we may send, +1 once our FIN may go too. */
  acceptsPeerReceived(n: number): boolean {
    return n >= this.out.acked && n <= this.sendable + (this.finSendable ? 1 : 0);
  }

  /** Our stream's end as far as it may go out now (the gate holds back what the mirror has not confirmed). */
  private get sendable(): number {
    return this.gate ? Math.min(this.gate.released, this.out.end) : this.out.end;
  }

  /** Our program ended its stream and that may go out now. */
  private get finSendable(): boolean {
    return this.finOut !== null && (!this.gate || this.gate.released > this.finOut);
  }

  /** Bytes of the service's stream held back until the mirror confirms the writes before them (for tests and status). */
  get held(): number {
    return this.out.end - this.sendable;
  }

  /**
   * What this session does now that the service moved: its onMove, except that a resend whose
   * unanswered request was too large to keep closes instead (the client would wait for a reply
   * that never comes).
   */
  get movePolicy(): 'close' | 'reopen' | 'resend' {
    if (this.onMove !== 'resend') return this.onMove;
    return this.unanswered?.pending === null || this.movesUnanswered >= MAX_UNANSWERED_MOVES ? 'close' : 'resend';
  }

  get hasPath(): boolean {
    return this.path !== null;
  }

  /** False until a path was attached: for the server end, the client end may never have had the WELCOME. */
  get everAttached(): boolean {
    return this.attachedOnce;
  }

  get finished(): boolean {
    return this.finOutAcked && this.finIn !== null && this.flushed === this.finIn;
  }

  private bindLocal(local: net.Socket): void {
    local.setNoDelay(true);
    // Events of a service connection that was replaced (onMove resend) no longer count.
    const current = () => local === this.local && this.relinkQueue === null;
    local.on('data', (chunk: Buffer) => {
      if (current()) this.onLocalData(chunk);
    });
    local.on('end', () => {
      if (current() && !this.relinkIfDied(local, 'ended its connection')) this.onLocalEnd();
    });
    local.on('error', (e) => {
      if (current() && !this.relinkIfDied(local, `connection failed (${e.message})`)) this.onLocalError(e);
    });
    local.on('close', () => {
      if (current() && !this.relinkIfDied(local, 'closed its connection')) this.localGone = true;
    });
  }

  /**
   * Server end, onMove resend: the service connection ended. When the service's process died
   * (rather than the service choosing to close), the session goes on over a new connection to
   * the service once it is back, and the request it had not answered is given to it again; the
   * client end sees nothing but a slower reply. False: the end is passed on as it is.
   */
  private relinkIfDied(old: net.Socket, what: string): boolean {
    const relink = this.relink;
    if (!relink || this.stateNow === 'closed' || this.finOut !== null || this.finIn !== null || !relink.died()) return false;
    this.relinkQueue = [];
    old.destroy();
    const again = this.unanswered?.pending ?? [];
    this.owner.journal(this, null, `the service's process died (it ${what}): the session waits for it to be back, to send it again the ${this.unanswered?.bytes ?? 0} bytes of request it had not answered`);
    this.swapLocal(relink.connect('new'), again, 'the session goes on over a new connection to the service; its unanswered request was sent again', (e) => `the service did not come back on this node: ${e.message}`);
    return true;
  }

  /**
   * Server end: the service connection becomes `next` once it comes (relinkQueue holds the client's
   * bytes meanwhile): `again` is written first, then what was queued, then the client's FIN if it
   * came. When it does not come the session ends as moved (a client end with onMove resend or
   * reopen goes on elsewhere).
   */
  private swapLocal(next: Promise<net.Socket>, again: readonly Buffer[], done: string, failed: (e: Error) => string): void {
    next.then(
      (socket) => {
        if (this.stateNow === 'closed') {
          socket.destroy();
          return;
        }
        const queued = this.relinkQueue ?? [];
        this.relinkQueue = null;
        const old = this.local;
        this.local = socket;
        old.destroy();
        this.localGone = false;
        this.localPaused = false;
        this.bindLocal(socket);
        for (const chunk of again) socket.write(chunk);
        for (const chunk of queued) this.giveLocal(chunk);
        if (this.finIn !== null) socket.end(() => this.queueAck());
        this.pump();
        this.owner.journal(this, null, done);
      },
      (e: unknown) => {
        this.relinkQueue = null;
        this.dispatch({ type: 'abort', code: 'SHIM_E_MOVED', message: failed(e as Error), tellPeer: true, deliver: true });
      },
    );
  }

  /** Runs one event through the table and performs its effects. */
  dispatch(event: SessionEvent): void {
    const r = step(SESSION_TABLE, this.stateNow, this.ctx, event, Date.now());
    if (!r.handled) return;
    this.stateNow = r.to;
    this.ctx = r.ctx;
    if (r.to === 'closed') this.gate?.stop();
    for (const eff of r.effects) this.perform(eff);
  }

  private perform(eff: SessionEffect): void {
    switch (eff.kind) {
      case 'start-broken-timer':
        this.startBrokenTimer();
        return;
      case 'stop-broken-timer':
        if (this.brokenTimer) clearTimeout(this.brokenTimer);
        this.brokenTimer = null;
        return;
      case 'reconnect':
        this.owner.reconnect(this);
        return;
      case 'drop-path': {
        const p = this.path;
        this.path = null;
        if (p) {
          p.bind({ frame: () => undefined, gone: () => undefined });
          if (eff.graceful) p.end();
          else p.destroy();
        }
        return;
      }
      case 'send-close':
        this.path?.send({ type: 'CLOSE', info: { code: eff.code, message: eff.message.slice(0, 500) } });
        this.path?.end();
        return;
      case 'end-local': {
        // Orderly: what the program was already given is still written, then FIN; a program that
        // keeps its side open is let go of after LINGER_MS so the session leaves nothing behind.
        if (!this.localGone) this.local.end();
        this.local.resume();
        const local = this.local;
        let waits = 0;
        const letGo = () => {
          // Still writing to a slow reader: give it more time (bounded) before cutting.
          if (local.writableLength > 0 && ++waits < 12) setTimeout(letGo, LINGER_MS).unref();
          else local.destroy();
        };
        setTimeout(letGo, LINGER_MS).unref();
        return;
      }
      case 'reset-stream': {
        const localEnded = this.finOut !== null;
        this.out.reset(0);
        this.transmitted = 0;
        this.received = 0;
        this.flushed = 0;
        this.ackSent = -1;
        this.finOut = null;
        this.finOutAcked = false;
        this.finIn = null;
        this.id = '';
        this.secret = '';
        // onMove resend: the new stream starts with the request the old service did not answer.
        if (eff.resend) {
          this.movesUnanswered += 1;
          for (const chunk of this.unanswered?.pending ?? []) this.out.push(chunk);
        }
        // The program had ended its side: the new stream ends there too.
        if (localEnded) this.finOut = this.out.end;
        this.resumeLocal();
        return;
      }
      case 'forget':
        this.owner.forget(this, eff.code);
        return;
      case 'journal':
        this.owner.journal(this, eff.code, eff.text);
        return;
    }
  }

  /**
   * A server-end session opened over mutual TLS for a plain TCP transport: its data path comes in
   * separately, and is waited for at most `ms` (brokenFor at most). Until then nothing went either
   * way, and the client end may never have had the WELCOME (its attempt ran out of time first and
   * it opens again): such a session is not kept for a whole brokenFor with its service connection.
   */
  awaitPath(ms: number): void {
    this.startBrokenTimer(Math.min(ms, this.bounds.brokenFor));
  }

  private startBrokenTimer(ms = this.bounds.brokenFor): void {
    if (this.brokenTimer) clearTimeout(this.brokenTimer);
    this.brokenTimer = setTimeout(() => {
      this.brokenTimer = null;
      this.dispatch({ type: 'expired' });
    }, ms);
    this.brokenTimer.unref();
  }

  /**
   * A path is ready for this session (after the handshake). `peerReceived` is how much of our
   * stream the peer has: we drop that from the replay buffer and send the rest again.
   */
  attach(path: ShimPath, peerReceived: number): void {
    if (this.stateNow === 'closed') {
      // The session ended while this path was being set up.
      path.destroy();
      return;
    }
    const old = this.path;
    if (old) {
      old.bind({ frame: () => undefined, gone: () => undefined });
      old.destroy();
    }
    this.path = path;
    this.attachedOnce = true;
    path.bind({ frame: (f) => this.onFrame(f), gone: (why) => this.onPathGone(path, why) });
    this.dispatch({ type: 'attached' });
    this.onPeerAck(peerReceived);
    this.transmitted = Math.min(peerReceived, this.sendable);
    this.pump();
    this.ackSent = -1;
    this.sendAck();
  }

  /** The client end could not get a path this time. */
  attemptFailed(code: ErrorCode, message: string): void {
    this.dispatch({ type: 'lost', code, message });
  }

  /** Sends a heartbeat; drops the path when the peer has been silent for three of them. */
  heartbeat(now: number): void {
    const p = this.path;
    if (!p) return;
    if (now - p.lastHeard > 3 * this.bounds.heartbeat) {
      this.dispatch({ type: 'lost', code: 'SHIM_E_HALF_OPEN', message: `nothing heard for ${now - p.lastHeard} ms` });
      return;
    }
    p.send({ type: 'PING' });
  }

  /** Closes the session for good (shim removed, agent stopping). */
  close(code: ErrorCode, message: string): void {
    this.dispatch({ type: 'abort', code, message, tellPeer: true });
  }

  private onPathGone(path: ShimPath, why: { code: ErrorCode; message: string; graceful: boolean }): void {
    if (this.path !== path) return;
    if (why.graceful && this.finished) {
      this.dispatch({ type: 'finished' });
      return;
    }
    // A path that ends, fails or stops in the middle of a frame is a broken path: resume. A peer
    // that sends what is not a frame (or too large a one) is not trusted with the session.
    if (why.code === 'SHIM_E_HALF_OPEN' || why.code === 'SHIM_E_TRUNCATED') this.dispatch({ type: 'lost', code: why.code, message: why.message });
    else this.dispatch({ type: 'abort', code: why.code, message: why.message, tellPeer: false });
  }

  private protocolError(message: string): void {
    this.dispatch({ type: 'abort', code: 'SHIM_E_PROTOCOL', message, tellPeer: true });
  }

  private onFrame(f: ShimFrame): void {
    switch (f.type) {
      case 'DATA':
        this.onPeerData(f.offset, f.data);
        return;
      case 'ACK':
        if (!this.acceptsPeerReceived(f.received)) {
          this.protocolError(`ACK of ${f.received} bytes, but only ${this.sendable} were sent`);
          return;
        }
        this.onPeerAck(f.received);
        return;
      case 'FIN':
        this.onPeerFin(f.offset);
        return;
      case 'PING':
        return;
      case 'CLOSE':
        // onMove resend: the server end let go of the session because the service no longer runs there.
        if (this.role === 'client' && this.onMove === 'resend' && MOVED_CLOSES.has(f.info.code)) this.dispatch({ type: 'moved', policy: this.movePolicy });
        else this.dispatch({ type: 'abort', code: f.info.code as ErrorCode, message: `the other end closed the session: ${f.info.message}`, tellPeer: false });
        return;
      default:
        this.protocolError(`${f.type} frame inside an open session`);
    }
  }

  private onPeerData(offset: number, data: Uint8Array): void {
    if (this.finIn !== null) return this.protocolError('DATA after FIN');
    if (offset > this.received) return this.protocolError(`DATA at ${offset} but ${this.received} expected (a gap)`);
    const skip = this.received - offset;
    if (skip >= data.length) return; // already delivered (a replay overlapping what arrived)
    const fresh = skip > 0 ? data.subarray(skip) : data;
    this.received += fresh.length;
    // The client end: the service answered what the program sent so far.
    if (this.role === 'client') {
      this.unanswered?.answered();
      this.movesUnanswered = 0;
    }
    if (this.relinkQueue !== null) {
      this.relinkQueue.push(Buffer.from(fresh));
      return;
    }
    this.giveLocal(fresh);
  }

  /** Writes the peer's bytes to the local program; acknowledged once its socket took them. */
  private giveLocal(fresh: Uint8Array): void {
    if (this.localGone) return;
    if (this.role === 'server') this.unanswered?.sent(Buffer.from(fresh.buffer, fresh.byteOffset, fresh.length));
    const n = fresh.length;
    this.local.write(fresh, (err) => {
      if (err) return;
      this.flushed += n;
      this.queueAck();
    });
  }

  private onPeerFin(offset: number): void {
    if (this.finIn !== null) {
      if (offset !== this.finIn) this.protocolError('a second FIN at another offset');
      else this.queueAck();
      return;
    }
    if (offset !== this.received) return this.protocolError(`FIN at ${offset} but ${this.received} bytes arrived`);
    this.finIn = offset;
    // While the service connection is being made or replaced, the FIN follows the queued bytes (swapLocal).
    if (this.relinkQueue !== null) return this.checkFinished();
    if (!this.localGone) this.local.end(() => this.queueAck());
    else this.queueAck();
    this.queueAck();
    this.checkFinished();
  }

  private onPeerAck(n: number): void {
    if (this.finOut !== null && n === this.finOut + 1) {
      this.finOutAcked = true;
      this.out.ack(this.finOut);
    } else this.out.ack(Math.min(n, this.out.end));
    if (this.transmitted < this.out.acked) this.transmitted = this.out.acked;
    this.resumeLocal();
    this.checkFinished();
  }

  private checkFinished(): void {
    if (this.finished && this.stateNow === 'open') {
      // Our last acknowledgement goes out before the path ends.
      this.sendAck();
      this.dispatch({ type: 'finished' });
    }
  }

  private resumeLocal(): void {
    if (this.localPaused && !this.out.full) {
      this.localPaused = false;
      this.local.resume();
    }
  }

  private onLocalData(chunk: Buffer): void {
    if (this.finOut !== null || this.stateNow === 'closed') return;
    // The server end: the service answered what it was given so far. The client end: more request.
    if (this.role === 'server') this.unanswered?.answered();
    else this.unanswered?.sent(chunk);
    this.out.push(chunk);
    if (this.out.full) {
      this.localPaused = true;
      this.local.pause();
    }
    this.gate?.advance(this.out.end);
    this.pump();
  }

  private onLocalEnd(): void {
    if (this.stateNow === 'closed' || this.finOut !== null) return;
    this.finOut = this.out.end;
    this.gate?.advance(this.finOut + 1);
    this.pump();
  }

  private onLocalError(e: Error): void {
    this.localGone = true;
    if (this.stateNow === 'closed') return;
    if (this.finOut !== null && this.finIn !== null) return; // done both ways; the socket's last words do not matter
    this.dispatch({ type: 'abort', code: 'SHIM_E_ABORTED', message: `the ${this.role === 'client' ? 'client program' : 'service'} connection failed: ${e.message}`, tellPeer: true, deliver: true });
  }

  /**
   * Sends what the path has not been given yet (and may be), then our FIN when due, in one write.
   * An acknowledgement that is due rides along, so a ping-pong needs no record of its own for it.
   */
  private pump(): void {
    const p = this.path;
    if (!p || this.stateNow !== 'open') return;
    const until = this.sendable;
    const data = this.transmitted < until;
    const fin = this.finSendable && !this.finOutAcked && until === this.finOut;
    if (!data && !fin) return;
    p.batch(() => {
      if (data) {
        for (const piece of this.out.from(this.transmitted, this.bounds.frameSize, until)) p.send({ type: 'DATA', offset: piece.offset, data: piece.data });
        this.transmitted = until;
      }
      if (fin) p.send({ type: 'FIN', offset: this.finOut as number });
      if (this.ackValue() !== this.ackSent) this.sendAck();
    });
  }

  /**
   * Acknowledgements are cumulative, so they are batched: at once when a quarter of the peer's
   * window (our buffer size: both ends run the same shim configuration) is unacknowledged or the
   * stream ended, else after ACK_DELAY_MS. A ping-pong then costs no extra record per message.
   */
  private queueAck(): void {
    const urgent = this.ackValue() - Math.max(0, this.ackSent) >= this.bounds.buffer / 4 || this.finIn !== null;
    if (this.ackTimer !== null && (this.ackTimerUrgent || !urgent)) return;
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimerUrgent = urgent;
    this.ackTimer = setTimeout(
      () => {
        this.ackTimer = null;
        this.sendAck();
      },
      urgent ? 0 : ACK_DELAY_MS,
    );
  }

  private ackValue(): number {
    return this.flushed + (this.finIn !== null && this.flushed === this.finIn ? 1 : 0);
  }

  private sendAck(): void {
    // A pending timer is left to run out (it sends nothing new then): clearing it and setting a
    // new one for each message of a ping-pong would cost more than the acknowledgement itself.
    const v = this.ackValue();
    if (v === this.ackSent || !this.path) return;
    this.ackSent = v;
    this.path.send({ type: 'ACK', received: v });
    this.checkFinished();
  }
}
