import { ArmoryError } from '../../common/errors/armory-error.js';
import { step } from '../../common/fsm/table.js';
import type { LaggingWord, PeerHeartbeat } from '../../common/wire/peer-heartbeat.js';
import type { GroupDeadlines } from './deadlines.js';
import { assess, type Assessment, type GroupRules, type PeerView } from './election.js';
import { ANNOUNCED_ROLE, FAILOVER_TABLE, type FailoverCtx, type FailoverEffect, type FailoverEvent, type FailoverState } from './failover-table.js';

/** What a node keeps durably per group: written before its heartbeats reveal it. */
export interface GroupDurableState {
  /** Raised at every start, so that heartbeats of an earlier run cannot be replayed. */
  inc: number;
  /** The highest epoch known. */
  epoch: number;
  /** The highest epoch this node granted its vote in, and to whom. */
  granted: { to: string; epoch: number } | null;
}

/** The effects the runner performs outside (VIP, ARP, services); the rest are handled here. */
export type OutsideEffect = Extract<FailoverEffect, { kind: 'add-vip' | 'arp' | 'start-services' | 'remove-vip' | 'stop-services' | 'report-takeover' }>;

export interface GroupMemberOptions {
  group: string;
  self: string;
  rules: GroupRules;
  deadlines: GroupDeadlines;
  stored: GroupDurableState;
  now: () => number;
  /** Sends a heartbeat to one voter. */
  send: (to: string, heartbeat: PeerHeartbeat) => void;
  /** Writes the durable state; the returned promise settles once it is on disk. */
  persist: (state: GroupDurableState) => void | Promise<void>;
  perform: (effect: OutsideEffect) => void | Promise<void>;
  /** Every transition of the failover table. */
  journal: (t: { from: FailoverState; to: FailoverState; reason: string; epoch: number }) => void;
  /** A refused heartbeat (rate limiting is the caller's). */
  refused?: (error: ArmoryError) => void;
  /** The members known to lag changed (by the newest word of an active node). */
  laggingChanged?: (word: LaggingWord) => void;
}

/** True when word `a` was said after word `b` (a higher epoch, or the same active's later heartbeat). */
export function newerWord(a: LaggingWord, b: LaggingWord | null): boolean {
  if (b === null) return true;
  return a.epoch !== b.epoch ? a.epoch > b.epoch : a.inc !== b.inc ? a.inc > b.inc : a.seq > b.seq;
}

interface PeerRecord {
  inc: number;
  seq: number;
  view: PeerView;
}

const SENT_KEPT = 256;

/**
 * One node's part in one failover group: the peers it hears, the heartbeats it sends, the election
 * it re-runs on every heartbeat and tick, and the failover table it steps. Time, the network, the
 * disk and the effects are injected, so that the same code runs in the agent and in simulations.
 */
export class GroupMember {
  private state: FailoverState = 'standby';
  private ctx: FailoverCtx = { epoch: 0 };
  private readonly peers = new Map<string, PeerRecord>();
  private readonly sentAt = new Map<number, number>();
  private seq = 0;
  private durable: GroupDurableState;
  private lastVote: string | null = null;
  private sentVoteKey = '';
  private stableSince: number;
  private seesMajority = false;
  private ready = false;
  private queue: FailoverEffect[] = [];
  private busy = false;
  private persisting = false;
  private latest: Assessment | null = null;
  private lastAck = new Map<string, number>();
  private disposed = false;
  private selfGrantDurable = false;
  private readonly startedAt: number;
  /** Every voter has been heard at once since this node joined: the group has formed, listening is over. */
  private heardAll = false;
  /**
   * This node may have held the group when its previous run ended (its last grant went to itself
   * at the newest epoch it knew): it failed while active, or close to it. Until it sees another
   * member active, or the listening bound passes, it announces itself not ready, so that the
   * other members take over instead of waiting for it: failback to a recovered node is the
   * group's policy (manual: only on request; auto: after failbackAfter), never a race won by a
   * fast restart.
   */
  private recovering: boolean;
  /** The newest word of an active node on whose mirrored data lags (this node's own while active). */
  private laggingWord: LaggingWord | null = null;
  /** What this node, while active, says lags (set by the agent from its mirrors). */
  private ownLagging: readonly string[] = [];

  constructor(private readonly o: GroupMemberOptions) {
    this.durable = { ...o.stored, granted: o.stored.granted ? { ...o.stored.granted } : null };
    this.stableSince = o.now();
    this.startedAt = o.now();
    const g = o.stored.granted;
    this.recovering = g !== null && g.to === o.self && g.epoch > 0 && g.epoch >= o.stored.epoch && Object.hasOwn(o.rules.members, o.self);
  }

  /** How long a node that just joined listens at most before it stands or, after a failure, before it is ready again. */
  private get listenBoundMs(): number {
    return Math.max(2000, 5 * this.o.deadlines.failAfterMs);
  }

  /** Readiness as announced: what the agent set, held back while this node recovers from a failure while active. */
  private get readyNow(): boolean {
    return this.ready && !this.recovering;
  }

  /** True while this node, restarted after it may have held the group, leaves the takeover to the others. */
  get isRecovering(): boolean {
    return this.recovering;
  }

  get current(): FailoverState {
    return this.state;
  }

  get epoch(): number {
    return this.durable.epoch;
  }

  /** The epoch this node holds while it may carry the group (taking over, active, stepping down); else 0. */
  get heldEpoch(): number {
    return this.state === 'standby' || this.state === 'candidate' ? 0 : this.ctx.epoch;
  }

  /** The node this one last saw holding the group at the highest epoch, itself included. */
  activeNode(): { node: string; epoch: number } | null {
    let best: { node: string; epoch: number } | null = this.state === 'active' || this.state === 'taking-over' ? { node: this.o.self, epoch: this.ctx.epoch } : null;
    const now = this.o.now();
    for (const [name, p] of this.peers) {
      if (now - p.view.lastRecvAt >= this.o.deadlines.failAfterMs || p.view.role !== 'active') continue;
      if (!best || p.view.proposal > best.epoch) best = { node: name, epoch: p.view.proposal };
    }
    return best;
  }

  /** Heartbeat health: every voter with how long ago it was last heard (null: never). */
  health(): { node: string; lastHeardMs: number | null; fresh: boolean }[] {
    const now = this.o.now();
    return this.o.rules.voters
      .filter((v) => v !== this.o.self)
      .map((v) => {
        const p = this.peers.get(v);
        const ago = p ? now - p.view.lastRecvAt : null;
        return { node: v, lastHeardMs: ago, fresh: ago !== null && ago < this.o.deadlines.failAfterMs };
      });
  }

  get assessment(): Assessment | null {
    return this.latest;
  }

  setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    this.evaluate();
    this.announce();
  }

  /** While active: the members whose copy of the group's mirrored data lags (said at once when it changes). */
  setLagging(nodes: readonly string[]): void {
    const next = [...new Set(nodes.filter((n) => n !== this.o.self && Object.hasOwn(this.o.rules.members, n)))].sort();
    if (next.join() === this.ownLagging.join()) return;
    this.ownLagging = next;
    if (this.holdsGroup) this.announce();
  }

  /** The members the newest word of an active node says lag (empty: none known). */
  get lagging(): readonly string[] {
    return this.laggingWord?.nodes ?? [];
  }

  private get holdsGroup(): boolean {
    return ANNOUNCED_ROLE[this.state] === 'active';
  }

  /** Takes a word if it is newer than the one known. */
  private hearWord(word: LaggingWord): void {
    if (!newerWord(word, this.laggingWord)) return;
    const before = this.laggingWord?.nodes.join() ?? '';
    this.laggingWord = { ...word, nodes: word.nodes.filter((n) => Object.hasOwn(this.o.rules.members, n)) };
    if (this.laggingWord.nodes.join() !== before) this.o.laggingChanged?.(this.laggingWord);
  }

  dispose(): void {
    this.disposed = true;
  }

  /** Takes one heartbeat; returns the refusal, if any. */
  receive(hb: PeerHeartbeat, now = this.o.now()): ArmoryError | null {
    const refuse = (e: ArmoryError) => {
      this.o.refused?.(e);
      return e;
    };
    if (hb.group !== this.o.group) return refuse(new ArmoryError('PEER_E_UNKNOWN_SENDER', `heartbeat for group ${hb.group}, not ${this.o.group}`));
    if (hb.from === this.o.self || !this.o.rules.voters.includes(hb.from)) return refuse(new ArmoryError('PEER_E_UNKNOWN_SENDER', `${hb.from} is no voter of group ${this.o.group}`, { node: hb.from }));
    const known = this.peers.get(hb.from);
    if (known && (hb.inc < known.inc || (hb.inc === known.inc && hb.seq <= known.seq))) {
      return refuse(new ArmoryError('PEER_E_REPLAY', `heartbeat ${hb.inc}/${hb.seq} of ${hb.from} is not newer than ${known.inc}/${known.seq}`, { node: hb.from }));
    }
    if (hb.epoch < this.durable.epoch) {
      return refuse(new ArmoryError('PEER_E_STALE_EPOCH', `heartbeat of ${hb.from} is from epoch ${hb.epoch}; this node knows epoch ${this.durable.epoch}`, { node: hb.from }));
    }
    const echo = hb.heard[this.o.self];
    const echoSentAt = echo && echo[0] === this.durable.inc ? (this.sentAt.get(echo[1]) ?? null) : null;
    // A new incarnation is a restarted node: it is stable only from now (for automatic failback).
    const wasFresh = known !== undefined && hb.inc === known.inc && now - known.view.lastRecvAt < this.o.deadlines.failAfterMs;
    this.peers.set(hb.from, {
      inc: hb.inc,
      seq: hb.seq,
      view: {
        name: hb.from,
        lastRecvAt: now,
        freshSince: wasFresh ? known.view.freshSince : now,
        priority: hb.priority,
        ready: hb.ready,
        epoch: hb.epoch,
        granted: hb.granted,
        role: hb.role,
        proposal: hb.proposal,
        vote: hb.vote,
        heardCount: Object.keys(hb.heard).filter((n) => this.o.rules.voters.includes(n)).length + 1,
        echoSentAt,
      },
    });
    // An active node's heartbeat without a word says that nothing lags.
    const word = hb.lagging ?? (hb.role === 'active' ? { by: hb.from, epoch: hb.proposal, inc: hb.inc, seq: hb.seq, nodes: [] } : null);
    if (word && this.o.rules.voters.includes(word.by)) this.hearWord(word);
    const inForce = Math.max(hb.epoch, hb.role === 'active' || hb.role === 'releasing' ? hb.proposal : 0);
    if (inForce > this.durable.epoch) this.raiseEpoch(inForce);
    this.evaluate(now);
    // A voter answers the node it votes for at once, so that its lease is renewed within a round trip.
    const vote = this.latest?.vote;
    if (vote && vote.for === hb.from && vote.for !== this.o.self && !this.persisting) {
      const last = this.lastAck.get(hb.from) ?? -Infinity;
      if (now - last >= this.o.deadlines.heartbeatMs / 4) {
        this.lastAck.set(hb.from, now);
        this.sendTo(hb.from);
      }
    }
    return null;
  }

  /** Re-evaluates the deadlines (called every tick). */
  tick(now = this.o.now()): void {
    this.evaluate(now);
  }

  /** Sends this node's heartbeat to every other voter (called every heartbeat interval). */
  broadcast(): void {
    if (this.persisting || this.disposed) return;
    for (const v of this.o.rules.voters) if (v !== this.o.self) this.sendTo(v);
  }

  private raiseEpoch(epoch: number): void {
    this.durable = { ...this.durable, epoch };
    // Knowing a newer epoch is not a promise: it is persisted lazily, with the next grant or candidacy.
  }

  private views(): PeerView[] {
    return [...this.peers.values()].map((p) => p.view);
  }

  private evaluate(now = this.o.now()): void {
    if (this.disposed) return;
    if (this.recovering) {
      const other = this.activeNode();
      if ((other !== null && other.node !== this.o.self) || now - this.startedAt >= this.listenBoundMs) this.recovering = false;
    }
    const assessed = assess(
      {
        name: this.o.self,
        role: ANNOUNCED_ROLE[this.state],
        ready: this.readyNow,
        epoch: this.durable.epoch,
        proposal: this.ctx.epoch,
        granted: this.durable.granted,
        lastVote: this.lastVote,
        stableSince: this.stableSince,
        lagging: this.lagging,
      },
      this.views(),
      this.o.rules,
      now,
    );
    // A node that just (re)started cannot know whom it voted for in its last moments (only its
    // durable grant): for one failure timeout it votes for nobody else, so that a vote it sent
    // before it died has run out everywhere before it could be given again.
    const v = assessed.vote;
    const withheld = v !== null && v.for !== this.o.self && v.for !== this.durable.granted?.to && now - this.startedAt < this.o.deadlines.failAfterMs;
    const a = withheld ? { ...assessed, vote: null } : assessed;
    if (a.fresh.length >= this.o.rules.voters.length) this.heardAll = true;
    if (a.seesMajority && !this.seesMajority) this.stableSince = now;
    this.seesMajority = a.seesMajority;
    this.latest = a;
    // A vote for another node at a new epoch is written durably before it is sent.
    if (a.vote && a.vote.for !== this.o.self && !this.persisting) {
      const g = this.durable.granted;
      if (!g || g.epoch !== a.vote.epoch || g.to !== a.vote.for) {
        this.durable = { ...this.durable, granted: { to: a.vote.for, epoch: a.vote.epoch } };
        this.persistThen(() => this.announce());
        return;
      }
    }
    if (this.busy) {
      // Effects are under way: only a step-down may interrupt (it queues behind them).
      if (a.verdict === 'yield' && (this.state === 'taking-over' || this.state === 'active')) this.dispatch({ type: 'yield', reason: a.reason }, now);
      this.announceIfChanged();
      return;
    }
    switch (a.verdict) {
      case 'stand':
        // A node that just joined listens before it stands: a failure timeout at least, and until it
        // has heard every voter or a few seconds have passed, so that a group forming at once (a
        // configuration reaching its members a little apart) starts on its best member. Once every
        // voter has been heard, the group has formed: a voter falling silent is a failure, not a late start.
        if (now - this.startedAt < this.o.deadlines.failAfterMs) break;
        if (!this.heardAll && a.fresh.length < this.o.rules.voters.length && now - this.startedAt < this.listenBoundMs) break;
        this.dispatch({ type: 'stand', epoch: a.nextProposal, reason: a.reason }, now);
        break;
      case 'won':
        if (this.selfGrantDurable) this.dispatch({ type: 'won', reason: a.reason }, now);
        break;
      case 'yield':
        this.dispatch({ type: 'yield', reason: a.reason }, now);
        break;
      default:
        break;
    }
    this.announceIfChanged();
  }

  private persistThen(next: () => void): void {
    this.persisting = true;
    const done = () => {
      this.persisting = false;
      next();
    };
    const r = this.o.persist({ ...this.durable });
    if (r instanceof Promise) {
      r.then(done, () => {
        this.persisting = false;
      });
    } else done();
  }

  private dispatch(event: FailoverEvent, now = this.o.now()): void {
    const r = step(FAILOVER_TABLE, this.state, this.ctx, event, now);
    if (!r.handled) return;
    this.state = r.to;
    this.ctx = r.ctx;
    if (r.from !== r.to) this.o.journal({ from: r.from, to: r.to, reason: r.reason, epoch: r.ctx.epoch || (r.from !== 'standby' ? this.ctx.epoch : 0) });
    this.queue.push(...r.effects);
    this.drain();
  }

  private drain(): void {
    while (!this.busy && this.queue.length > 0 && !this.disposed) {
      const effect = this.queue.shift() as FailoverEffect;
      switch (effect.kind) {
        case 'announce':
          this.announce();
          continue;
        case 'done':
          this.dispatch({ type: effect.event });
          continue;
        case 'persist-grant': {
          // Heartbeats keep going while the candidate's own vote is written; it counts once on disk.
          this.durable = { ...this.durable, granted: { to: this.o.self, epoch: effect.epoch } };
          this.selfGrantDurable = false;
          this.busy = true;
          const done = () => {
            this.busy = false;
            this.selfGrantDurable = true;
            this.drain();
          };
          const r = this.o.persist({ ...this.durable });
          if (r instanceof Promise) r.then(done, () => (this.busy = false));
          else done();
          continue;
        }
        case 'persist-epoch': {
          this.durable = { ...this.durable, epoch: Math.max(this.durable.epoch, effect.epoch) };
          const g = this.durable.granted;
          if (this.selfGrantDurable && g?.to === this.o.self && g.epoch === effect.epoch) {
            // The epoch is on disk already: the candidacy wrote it (as this node's vote for itself)
            // before it could win, and a restarted node proposes above it. The file's `epoch`
            // field follows in the background; acting does not wait for a second write.
            void Promise.resolve(this.o.persist({ ...this.durable })).catch(() => undefined);
            continue;
          }
          this.busy = true;
          this.persistThen(() => {
            this.busy = false;
            this.drain();
          });
          continue;
        }
        default: {
          let r: void | Promise<void>;
          try {
            r = this.o.perform(effect);
          } catch {
            r = undefined;
          }
          if (r instanceof Promise) {
            this.busy = true;
            r.catch(() => undefined).then(() => {
              this.busy = false;
              this.drain();
            });
          }
        }
      }
    }
    if (!this.busy && this.queue.length === 0) this.evaluate();
  }

  private announceIfChanged(): void {
    const key = `${this.state}|${this.ctx.epoch}|${this.latest?.vote ? `${this.latest.vote.for}@${this.latest.vote.epoch}` : '-'}|${this.readyNow}`;
    if (key !== this.sentVoteKey) this.announce();
  }

  private announce(): void {
    this.broadcast();
  }

  private heartbeat(): PeerHeartbeat {
    this.seq += 1;
    this.sentAt.set(this.seq, this.o.now());
    if (this.sentAt.size > SENT_KEPT) this.sentAt.delete(this.seq - SENT_KEPT);
    const now = this.o.now();
    const heard: Record<string, [number, number]> = {};
    for (const [name, p] of this.peers) if (now - p.view.lastRecvAt < this.o.deadlines.failAfterMs) heard[name] = [p.inc, p.seq];
    const vote = this.persisting ? null : (this.latest?.vote ?? null);
    if (vote) this.lastVote = vote.for;
    this.sentVoteKey = `${this.state}|${this.ctx.epoch}|${vote ? `${vote.for}@${vote.epoch}` : '-'}|${this.readyNow}`;
    if (this.holdsGroup) this.hearWord({ by: this.o.self, epoch: this.ctx.epoch, inc: this.durable.inc, seq: this.seq, nodes: [...this.ownLagging] });
    const word = this.laggingWord && this.laggingWord.nodes.length > 0 ? this.laggingWord : null;
    return {
      group: this.o.group,
      from: this.o.self,
      inc: this.durable.inc,
      seq: this.seq,
      epoch: this.durable.epoch,
      granted: this.durable.granted?.epoch ?? 0,
      role: ANNOUNCED_ROLE[this.state],
      proposal: this.ctx.epoch,
      ready: this.readyNow,
      priority: this.o.rules.members[this.o.self] ?? 0,
      vote,
      heard,
      ...(word ? { lagging: word } : {}),
    };
  }

  private sendTo(to: string): void {
    if (this.persisting || this.disposed) return;
    this.o.send(to, this.heartbeat());
  }
}
