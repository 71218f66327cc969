import type { ErrorCode } from '../../common/errors/codes.js';
import type { TransitionTable } from '../../common/fsm/table.js';

/**
 * The life of one shim session, the same table for both ends (the context says which end).
 * `connecting`: the client end has no path yet (first open, or a reopen after a move).
 * `open`: a path is attached and frames flow. `broken`: the path is gone, the session waits for a
 * resume (the client end keeps trying) until `brokenFor` runs out. `closed`: done, for good.
 */
export type SessionState = 'connecting' | 'open' | 'broken' | 'closed';

export type SessionEvent =
  | { readonly type: 'attached' }
  | { readonly type: 'lost'; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'expired' }
  | { readonly type: 'moved'; readonly policy: 'close' | 'reopen' | 'resend' }
  | { readonly type: 'finished' }
  | { readonly type: 'abort'; readonly code: ErrorCode; readonly message: string; readonly tellPeer: boolean; readonly deliver?: boolean };

export interface SessionCtx {
  readonly role: 'client' | 'server';
  readonly resumes: number;
}

export type SessionEffect =
  | { readonly kind: 'start-broken-timer' }
  | { readonly kind: 'stop-broken-timer' }
  | { readonly kind: 'reconnect' }
  | { readonly kind: 'drop-path'; readonly graceful: boolean }
  | { readonly kind: 'send-close'; readonly code: ErrorCode; readonly message: string }
  | { readonly kind: 'end-local' }
  /** The session starts over with a new server; `resend`: with the request the old one did not answer. */
  | { readonly kind: 'reset-stream'; readonly resend: boolean }
  | { readonly kind: 'forget'; readonly code: ErrorCode | null }
  | { readonly kind: 'journal'; readonly code: ErrorCode | null; readonly text: string };

export const SESSION_STATES: readonly SessionState[] = ['connecting', 'open', 'broken', 'closed'];

const reconnect = (ctx: SessionCtx): SessionEffect[] => (ctx.role === 'client' ? [{ kind: 'reconnect' }] : []);

const closeFor = (code: ErrorCode, text: string, graceful = false): SessionEffect[] => [
  { kind: 'stop-broken-timer' },
  { kind: 'drop-path', graceful },
  { kind: 'end-local' },
  { kind: 'forget', code },
  { kind: 'journal', code, text },
];

const abort: NonNullable<TransitionTable<SessionState, SessionEvent, SessionCtx, SessionEffect>['open']['abort']> = (_ctx, e) => ({
  to: 'closed',
  // `deliver`: the path ends in order after the CLOSE rather than being cut, so the CLOSE is not lost.
  effects: [...(e.tellPeer ? [{ kind: 'send-close' as const, code: e.code, message: e.message }] : []), ...closeFor(e.code, `session closed: ${e.message}`, e.tellPeer && e.deliver === true)],
  reason: e.message,
});

const expired = () => ({
  to: 'closed' as const,
  effects: closeFor('SHIM_E_BROKEN_TOO_LONG', 'session broken for too long: both programs see an orderly close'),
  reason: 'broken for too long',
});

const REOPENED = {
  reopen: 'the service moved: the connection is reopened to the new server (onMove: reopen)',
  resend: 'the service moved: the connection is reopened to the new server, which is sent the request the old one did not answer (onMove: resend)',
} as const;

/** Broken (the new server end does not know the session): the broken timer bounds the reopen too. */
const moved: NonNullable<TransitionTable<SessionState, SessionEvent, SessionCtx, SessionEffect>['broken']['moved']> = (ctx, e) =>
  e.policy === 'close'
    ? { to: 'closed', effects: closeFor('SHIM_E_MOVED', 'the service moved: the connection is closed in order (onMove: close)'), reason: 'moved, closing' }
    : {
        to: 'connecting',
        effects: [{ kind: 'reset-stream', resend: e.policy === 'resend' }, ...reconnect(ctx), { kind: 'journal', code: 'SHIM_E_MOVED', text: REOPENED[e.policy] }],
        reason: 'moved, reopening',
      };

/** Open (the server end closed the session: the service no longer runs there): the path goes, the reopen is bounded by brokenFor. */
const movedWhileOpen: NonNullable<TransitionTable<SessionState, SessionEvent, SessionCtx, SessionEffect>['open']['moved']> = (ctx, e) => {
  const r = moved(ctx, e, 0);
  return r.to === 'closed' ? r : { ...r, effects: [{ kind: 'drop-path', graceful: false }, { kind: 'start-broken-timer' }, ...(r.effects ?? [])] };
};

export const SESSION_TABLE: TransitionTable<SessionState, SessionEvent, SessionCtx, SessionEffect> = {
  connecting: {
    attached: () => ({ to: 'open', effects: [{ kind: 'stop-broken-timer' }], reason: 'path up' }),
    lost: (ctx) => ({ to: 'connecting', effects: reconnect(ctx), reason: 'no path yet; trying again' }),
    expired,
    abort,
  },
  open: {
    attached: (ctx) => ({
      to: 'open',
      ctx: { ...ctx, resumes: ctx.resumes + 1 },
      effects: [{ kind: 'journal', code: 'SHIM_E_HALF_OPEN', text: 'session resumed over a new path; the old one was half-open' }],
      reason: 'new path replaces a half-open one',
    }),
    lost: (ctx, e) => ({
      to: 'broken',
      effects: [{ kind: 'drop-path', graceful: false }, { kind: 'start-broken-timer' }, ...reconnect(ctx), { kind: 'journal', code: e.code, text: `session path broken: ${e.message}` }],
      reason: e.message,
    }),
    finished: () => ({ to: 'closed', effects: [{ kind: 'drop-path', graceful: true }, { kind: 'forget', code: null }], reason: 'both directions finished' }),
    moved: movedWhileOpen,
    abort,
  },
  broken: {
    attached: (ctx) => ({
      to: 'open',
      ctx: { ...ctx, resumes: ctx.resumes + 1 },
      effects: [{ kind: 'stop-broken-timer' }, { kind: 'journal', code: null, text: 'session resumed: both ends replay what the other has not acknowledged' }],
      reason: 'resumed',
    }),
    lost: (ctx) => ({ to: 'broken', effects: reconnect(ctx), reason: 'resume attempt failed; trying again' }),
    expired,
    moved,
    finished: () => ({ to: 'closed', effects: [{ kind: 'stop-broken-timer' }, { kind: 'forget', code: null }], reason: 'both directions finished' }),
    abort,
  },
  closed: {},
};
