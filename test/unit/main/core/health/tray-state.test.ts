import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERVICE_STATES, type ServiceState } from '../../../../../common/wire/service-status.js';
import { serviceLevel, TRAY_LEVELS, trayState, type TrayNodeInput } from '../../../../../main/core/health/tray-state.js';

const svc = (name: string, state: ServiceState, extra: { desired?: 'up' | 'down'; ready?: boolean } = {}) => ({ name, state, desired: extra.desired ?? 'up', ready: extra.ready ?? state === 'running' });
const node = (name: string, services: TrayNodeInput['services'], reachable = true): TrayNodeInput => ({ node: name, reachable, services });

describe('the tray icon follows the worst service', () => {
  it('every state and desire maps to a colour', () => {
    const table = SERVICE_STATES.flatMap((state) => (['up', 'down'] as const).flatMap((desired) => [false, true].map((ready) => `${state}/${desired}/${ready ? 'ready' : '-'} → ${serviceLevel({ name: 'x', state, desired, ready })}`)));
    expect(table).toEqual([
      'stopped/up/- → warning', 'stopped/up/ready → warning', 'stopped/down/- → ok', 'stopped/down/ready → ok',
      'starting/up/- → warning', 'starting/up/ready → warning', 'starting/down/- → warning', 'starting/down/ready → warning',
      'running/up/- → warning', 'running/up/ready → ok', 'running/down/- → warning', 'running/down/ready → ok',
      'backing-off/up/- → warning', 'backing-off/up/ready → warning', 'backing-off/down/- → warning', 'backing-off/down/ready → warning',
      'stopping/up/- → warning', 'stopping/up/ready → warning', 'stopping/down/- → ok', 'stopping/down/ready → ok',
      'failed/up/- → error', 'failed/up/ready → error', 'failed/down/- → ok', 'failed/down/ready → ok',
      'escalated/up/- → warning', 'escalated/up/ready → warning', 'escalated/down/- → warning', 'escalated/down/ready → warning',
    ]);
  });

  it('green when all is well, amber while Armory recovers, red when it gave up or a node is silent', () => {
    expect(trayState([node('local', [svc('web', 'running'), svc('db', 'stopped', { desired: 'down' })])])).toEqual({ level: 'ok', tooltip: 'Armory: all 2 services OK', worst: [] });
    expect(trayState([node('local', [svc('web', 'running'), svc('db', 'backing-off')])])).toMatchObject({ level: 'warning', tooltip: 'Armory: local/db backing-off', worst: ['local/db'] });
    const red = trayState([node('a', [svc('web', 'backing-off'), svc('db', 'failed')]), node('b', [], false)]);
    expect(red).toMatchObject({ level: 'error', worst: ['a/db', 'b', 'a/web'] });
    expect(red.tooltip).toBe('Armory: a/db failed (+2 more)');
    expect(trayState([node('a', [svc('web', 'running', { ready: false })])]).tooltip).toBe('Armory: a/web not ready');
  });

  it('grey before anything is known, and with no nodes it says what to do', () => {
    expect(trayState(null).level).toBe('unknown');
    expect(trayState([])).toMatchObject({ level: 'unknown', tooltip: expect.stringMatching(/no nodes yet/) });
  });

  it('is the maximum over services, whatever their order', () => {
    const arb = fc.array(fc.record({ name: fc.constantFrom('a', 'b', 'c'), state: fc.constantFrom(...SERVICE_STATES), desired: fc.constantFrom('up' as const, 'down' as const), ready: fc.boolean() }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(arb, fc.boolean(), (services, reachable) => {
        const t = trayState([node('n', services, reachable)]);
        const expected = !reachable ? 'error' : services.map(serviceLevel).reduce((a, b) => (TRAY_LEVELS.indexOf(a) >= TRAY_LEVELS.indexOf(b) ? a : b), 'ok' as const);
        expect(t.level).toBe(expected);
        expect(trayState([node('n', [...services].reverse(), reachable)]).level).toBe(t.level);
      }),
    );
  });
});
