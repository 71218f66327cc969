import { describe, expect, it } from 'vitest';
import { DRILL_BRIDGE_MAX_DURATION_MS, drillDomain } from '../../../../common/bridge/drill.js';
import { DRILL_MAX_DURATION_MS } from '../../../../common/wire/drill.js';

const run = drillDomain.methods.run.params;

describe('drill.run over the bridge', () => {
  it('accepts faults up to 60 s, so the drill answers within the bridge call time; longer ones only from the CLI', () => {
    expect(DRILL_BRIDGE_MAX_DURATION_MS).toBe(60_000);
    expect(DRILL_MAX_DURATION_MS).toBeGreaterThan(DRILL_BRIDGE_MAX_DURATION_MS);
    expect(run.safeParse({ service: 'web', fault: 'hang', durationMs: 60_000 }).success).toBe(true);
    expect(run.safeParse({ service: 'web', fault: 'hang', durationMs: 60_001 }).success).toBe(false);
    expect(run.safeParse({ service: 'web', fault: 'hang', durationMs: 120_000 }).success).toBe(false);
    expect(run.safeParse({ service: 'web', fault: 'hang', durationMs: 99 }).success).toBe(false);
    expect(run.safeParse({ service: 'web', fault: 'kill' }).success).toBe(true);
  });
});
