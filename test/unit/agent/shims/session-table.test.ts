import { describe, expect, it } from 'vitest';
import { step } from '../../../../common/fsm/table.js';
import { SESSION_STATES, SESSION_TABLE, type SessionCtx, type SessionEvent, type SessionState } from '../../../../agent/shims/session-table.js';

const EVENTS: readonly SessionEvent[] = [
  { type: 'attached' },
  { type: 'lost', code: 'SHIM_E_HALF_OPEN', message: 'silent' },
  { type: 'expired' },
  { type: 'moved', policy: 'close' },
  { type: 'moved', policy: 'reopen' },
  { type: 'moved', policy: 'resend' },
  { type: 'finished' },
  { type: 'abort', code: 'SHIM_E_ABORTED', message: 'reset', tellPeer: true },
  { type: 'abort', code: 'SHIM_E_PROTOCOL', message: 'bad', tellPeer: false },
];
const ROLES = ['client', 'server'] as const;

/** The whole table, written out: [state, event (with variant), role] → next state and effect kinds. */
function expected(state: SessionState, e: SessionEvent, role: 'client' | 'server'): { to: SessionState; effects: string[] } | null {
  const rc = role === 'client' ? ['reconnect'] : [];
  const close = ['stop-broken-timer', 'drop-path', 'end-local', 'forget', 'journal'];
  const abort = (tell: boolean) => [...(tell ? ['send-close'] : []), ...close];
  switch (`${state}/${e.type}`) {
    case 'connecting/attached':
      return { to: 'open', effects: ['stop-broken-timer'] };
    case 'connecting/lost':
      return { to: 'connecting', effects: rc };
    case 'connecting/expired':
    case 'broken/expired':
      return { to: 'closed', effects: close };
    case 'connecting/abort':
    case 'open/abort':
    case 'broken/abort':
      return { to: 'closed', effects: abort((e as { tellPeer: boolean }).tellPeer) };
    case 'open/attached':
      return { to: 'open', effects: ['journal'] };
    case 'open/lost':
      return { to: 'broken', effects: ['drop-path', 'start-broken-timer', ...rc, 'journal'] };
    case 'open/finished':
      return { to: 'closed', effects: ['drop-path', 'forget'] };
    case 'broken/attached':
      return { to: 'open', effects: ['stop-broken-timer', 'journal'] };
    case 'broken/lost':
      return { to: 'broken', effects: rc };
    case 'broken/moved':
      return (e as { policy: string }).policy !== 'close' ? { to: 'connecting', effects: ['reset-stream', ...rc, 'journal'] } : { to: 'closed', effects: close };
    // The server end closed the session because the service no longer runs there (onMove resend).
    case 'open/moved':
      return (e as { policy: string }).policy !== 'close' ? { to: 'connecting', effects: ['drop-path', 'start-broken-timer', 'reset-stream', ...rc, 'journal'] } : { to: 'closed', effects: close };
    case 'broken/finished':
      return { to: 'closed', effects: ['stop-broken-timer', 'forget'] };
    default:
      return null;
  }
}

describe('the shim session table', () => {
  it('does exactly what is written out here for every state, event and end', () => {
    for (const role of ROLES) {
      for (const state of SESSION_STATES) {
        for (const e of EVENTS) {
          const ctx: SessionCtx = { role, resumes: 0 };
          const r = step(SESSION_TABLE, state, ctx, e, 0);
          const want = expected(state, e, role);
          const label = `${role} ${state} + ${e.type}`;
          if (!want) {
            expect(r.handled, label).toBe(false);
            continue;
          }
          expect(r.handled, label).toBe(true);
          expect(r.to, label).toBe(want.to);
          expect(r.effects.map((x) => x.kind), label).toEqual(want.effects);
        }
      }
    }
  });

  it('counts resumes and closes with the event\'s code', () => {
    const client: SessionCtx = { role: 'client', resumes: 2 };
    const server: SessionCtx = { role: 'server', resumes: 0 };
    const r = step(SESSION_TABLE, 'broken', client, { type: 'attached' }, 0);
    expect(r.ctx.resumes).toBe(3);
    const closed = step(SESSION_TABLE, 'broken', server, { type: 'expired' }, 0);
    expect(closed.effects).toContainEqual({ kind: 'forget', code: 'SHIM_E_BROKEN_TOO_LONG' });
    const moved = step(SESSION_TABLE, 'broken', client, { type: 'moved', policy: 'close' }, 0);
    expect(moved.effects).toContainEqual(expect.objectContaining({ kind: 'journal', code: 'SHIM_E_MOVED' }));
    // Only resend starts the new stream with the unanswered request.
    expect(step(SESSION_TABLE, 'broken', client, { type: 'moved', policy: 'resend' }, 0).effects).toContainEqual({ kind: 'reset-stream', resend: true });
    expect(step(SESSION_TABLE, 'open', client, { type: 'moved', policy: 'reopen' }, 0).effects).toContainEqual({ kind: 'reset-stream', resend: false });
  });
});
