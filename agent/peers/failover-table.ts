import type { TransitionTable } from '../../common/fsm/table.js';
import type { PeerRole } from '../../common/wire/peer-heartbeat.js';

/** Detailed failover states of one node in one group. */
export const FAILOVER_STATES = ['standby', 'candidate', 'taking-over', 'active', 'stepping-down'] as const;
export type FailoverState = (typeof FAILOVER_STATES)[number];

/** What a node announces in its heartbeats for each state: it may hold the VIP from taking-over until released. */
export const ANNOUNCED_ROLE: Readonly<Record<FailoverState, PeerRole>> = {
  standby: 'standby',
  candidate: 'candidate',
  'taking-over': 'active',
  active: 'active',
  'stepping-down': 'releasing',
};

export type FailoverEvent =
  | { type: 'stand'; epoch: number; reason: string }
  | { type: 'won'; reason: string }
  | { type: 'took-over' }
  | { type: 'yield'; reason: string }
  | { type: 'released' };
export const FAILOVER_EVENT_TYPES = ['stand', 'won', 'took-over', 'yield', 'released'] as const satisfies readonly FailoverEvent['type'][];

export interface FailoverCtx {
  /** The epoch proposed (candidate) or held (taking-over, active, stepping-down); 0 in standby. */
  readonly epoch: number;
}

/**
 * Effects, performed in order by the runner; `done` feeds the named event back once every effect
 * before it has finished, so that `active` and `standby` are only reached when the work is done.
 */
export type FailoverEffect =
  | { kind: 'persist-grant'; epoch: number }
  | { kind: 'persist-epoch'; epoch: number }
  | { kind: 'announce' }
  | { kind: 'add-vip' }
  | { kind: 'arp' }
  | { kind: 'start-services' }
  | { kind: 'remove-vip' }
  | { kind: 'stop-services' }
  | { kind: 'report-takeover'; epoch: number }
  | { kind: 'done'; event: 'took-over' | 'released' };

const stepDown = (ctx: FailoverCtx, reason: string) => ({
  to: 'stepping-down' as const,
  ctx,
  // The address goes first: clients stop reaching this node at once; the program then gets its stop signal.
  effects: [{ kind: 'announce' }, { kind: 'remove-vip' }, { kind: 'stop-services' }, { kind: 'done', event: 'released' }] as FailoverEffect[],
  reason: `stepping down: ${reason}`,
});

export const FAILOVER_TABLE: TransitionTable<FailoverState, FailoverEvent, FailoverCtx, FailoverEffect> = {
  standby: {
    // The candidacy goes out at once; the candidate's vote for itself counts only once it is on disk.
    stand: (_ctx, e) => ({ to: 'candidate', ctx: { epoch: e.epoch }, effects: [{ kind: 'announce' }, { kind: 'persist-grant', epoch: e.epoch }], reason: `candidate for epoch ${e.epoch}: ${e.reason}` }),
  },
  candidate: {
    won: (ctx, e) => ({
      to: 'taking-over',
      // The raised epoch is on disk before the address or the program is touched.
      effects: [{ kind: 'persist-epoch', epoch: ctx.epoch }, { kind: 'announce' }, { kind: 'add-vip' }, { kind: 'arp' }, { kind: 'start-services' }, { kind: 'done', event: 'took-over' }],
      reason: `taking over in epoch ${ctx.epoch}: ${e.reason}`,
    }),
    yield: (_ctx, e) => ({ to: 'standby', ctx: { epoch: 0 }, effects: [{ kind: 'announce' }], reason: `candidacy withdrawn: ${e.reason}` }),
  },
  'taking-over': {
    'took-over': (ctx) => ({ to: 'active', effects: [{ kind: 'report-takeover', epoch: ctx.epoch }], reason: `active in epoch ${ctx.epoch}` }),
    yield: (ctx, e) => stepDown(ctx, e.reason),
  },
  active: {
    yield: (ctx, e) => stepDown(ctx, e.reason),
  },
  'stepping-down': {
    released: (ctx) => ({ to: 'standby', ctx: { epoch: 0 }, effects: [{ kind: 'announce' }], reason: `released epoch ${ctx.epoch}` }),
  },
};
