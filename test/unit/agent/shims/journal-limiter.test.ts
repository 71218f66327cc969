import { describe, expect, it } from 'vitest';
import { limitJournal } from '../../../../agent/shims/journal-limiter.js';

describe('limitJournal', () => {
  it('lets `burst` events per window and kind through, then says how many it left out', () => {
    let t = 0;
    const out: string[] = [];
    const j = limitJournal((e) => out.push(`${e.code} ${e.text}`), { burst: 2, windowMs: 1000, now: () => t });
    const bad = { service: 's', end: 'server' as const, session: null, code: 'SHIM_E_BAD_SECRET' as const, text: 'refused' };
    for (let i = 0; i < 5; i += 1) j(bad);
    j({ ...bad, code: 'SHIM_E_HALF_OPEN', text: 'broken' });
    expect(out).toEqual(['SHIM_E_BAD_SECRET refused', 'SHIM_E_BAD_SECRET refused', 'SHIM_E_HALF_OPEN broken']);
    t = 1000;
    j(bad);
    expect(out.at(-1)).toBe('SHIM_E_BAD_SECRET refused (3 similar events left out)');
    j(bad);
    expect(out.at(-1)).toBe('SHIM_E_BAD_SECRET refused');
  });
});
