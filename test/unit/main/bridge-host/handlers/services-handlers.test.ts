import { describe, expect, it } from 'vitest';
import { recoveriesOf } from '../../../../../main/bridge-host/handlers/services-handlers.js';

const at = (s: number) => new Date(1_700_000_000_000 + s * 1000).toISOString();

describe('recoveriesOf', () => {
  it('measures each departure from running until it runs again; a deliberate stop is not a recovery', () => {
    const r = recoveriesOf([
      { time: at(0), from: 'starting', to: 'running', reason: 'started' },
      { time: at(10), from: 'running', to: 'backing-off', reason: 'killed by SIGKILL' },
      { time: at(11), from: 'backing-off', to: 'starting', reason: 'restart' },
      { time: at(12.5), from: 'starting', to: 'running', reason: 'started' },
      { time: at(20), from: 'running', to: 'stopping', reason: 'stop' },
      { time: at(21), from: 'stopping', to: 'stopped', reason: 'stopped' },
      { time: at(30), from: 'stopped', to: 'running', reason: 'started' },
      { time: at(40), from: 'running', to: 'failed', reason: 'gave up' },
    ]);
    expect(r).toEqual([
      { time: at(10), to: 'backing-off', reason: 'killed by SIGKILL', recoveryMs: 2500 },
      { time: at(40), to: 'failed', reason: 'gave up', recoveryMs: null },
    ]);
  });
});
