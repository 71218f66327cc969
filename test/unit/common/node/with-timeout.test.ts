import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../../../common/node/with-timeout.js';

describe('withTimeout', () => {
  it('answers as the promise does and leaves no timer behind', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await expect(withTimeout(Promise.resolve(7), 60_000)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('no')), 60_000)).rejects.toThrow('no');
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });

  it('rejects with AGENT_E_UNREACHABLE after the time, calling onTimeout first', async () => {
    let called = 0;
    const never = new Promise<number>(() => undefined);
    await expect(withTimeout(never, 20, () => (called += 1))).rejects.toMatchObject({ code: 'AGENT_E_UNREACHABLE', message: 'no answer within 20 ms' });
    expect(called).toBe(1);
  });
});
