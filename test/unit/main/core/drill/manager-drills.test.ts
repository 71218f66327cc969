import { describe, expect, it } from 'vitest';
import { ArmoryError } from '../../../../../common/errors/armory-error.js';
import { injectRefusal } from '../../../../../main/core/drill/manager-drills.js';

const target = (fault: 'kill' | 'hang' | 'link-down' | 'partition') => ({ service: 'web', node: 'a', fault });

describe('a failed drill.inject', () => {
  it('of a timed fault that got no answer (or lost its connection) is measured anyway, unconfirmed', () => {
    for (const fault of ['hang', 'link-down', 'partition'] as const) {
      expect(injectRefusal(target(fault), new ArmoryError('AGENT_E_UNREACHABLE', 'no answer within 10000 ms'))).toBeNull();
      expect(injectRefusal(target(fault), new ArmoryError('AGENT_E_UNREACHABLE', 'the agent closed the connection'))).toBeNull();
    }
  });

  it('of a fault that is not timed, or refused by the agent, ends the drill with a DRILL_E code', () => {
    expect(injectRefusal(target('kill'), new ArmoryError('AGENT_E_UNREACHABLE', 'no answer within 10000 ms'))).toMatchObject({ code: 'DRILL_E_INJECT', message: 'a did not inject kill: no answer within 10000 ms' });
    expect(injectRefusal(target('link-down'), new ArmoryError('DRILL_E_NOT_RUNNING', 'web does not run here'))?.code).toBe('DRILL_E_NOT_RUNNING');
    expect(injectRefusal(target('hang'), new ArmoryError('CONFIG_E_INVALID', 'x'))?.code).toBe('DRILL_E_INJECT');
  });
});
