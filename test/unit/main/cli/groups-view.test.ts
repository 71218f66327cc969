import { describe, expect, it } from 'vitest';
import { failoverBudget } from '../../../../common/config/failover-budget.js';
import { formatGroups } from '../../../../main/cli/groups-view.js';

describe('armory groups', () => {
  it('shows the active node, epoch, members, heartbeat paths and the failover budget', () => {
    const lines = formatGroups([
      {
        group: 'g',
        services: ['web'],
        activeNode: 'h1',
        epoch: 4,
        members: [
          { node: 'h1', state: 'active', ready: true, reachable: true },
          { node: 'h2', state: 'standby', ready: false, reachable: true, lagging: true },
          { node: 'w', state: null, ready: null, reachable: false },
        ],
        heartbeats: [
          { from: 'h1', to: 'h2', lastHeardMs: 40, fresh: true },
          { from: 'h2', to: 'w', lastHeardMs: 1234.4, fresh: false },
        ],
        budget: failoverBudget(100, 300, 35),
      },
    ]);
    expect(lines).toEqual([
      'g: active h1, epoch 4, services web',
      '  failover budget 455 ms = detection 400 + start 35 + ARP 20',
      '  h1           active',
      '  h2           standby        not ready, copy of the mirrored data lags',
      '  w            UNREACHABLE',
      '  heartbeats: h2 hears nothing from w for 1234 ms',
    ]);
    expect(formatGroups([])).toEqual(['no failover groups in the applied configuration']);
  });
});
