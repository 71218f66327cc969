import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { UNIT_NAME } from './remote-layout.js';

export type UnitScope = 'systemd' | 'systemd-user';

/** The unit templates shipped with Armory, relative to the repository (bundle) root. */
export const UNIT_TEMPLATES: Readonly<Record<UnitScope, string>> = Object.freeze({
  systemd: 'assets/systemd/armory-agent.service',
  'systemd-user': 'assets/systemd/armory-agent-user.service',
});

/** How the agent's unit is driven: the system manager (as root) or the login user's own manager. */
export function unitControl(scope: UnitScope): { readonly systemctl: string; readonly journal: string } {
  return scope === 'systemd-user'
    ? Object.freeze({ systemctl: 'systemctl --user', journal: `journalctl --user-unit ${UNIT_NAME}` })
    : Object.freeze({ systemctl: 'systemctl', journal: `journalctl -u ${UNIT_NAME}` });
}

export interface UnitValues {
  readonly nodePath: string;
  readonly agentScript: string;
  readonly listen: string;
  readonly stateDir: string;
}

/** Fills in the template's @NODE@, @AGENT@, @LISTEN@ and @STATE_DIR@; a placeholder left over is an error. */
export function renderUnit(template: string, values: UnitValues): string {
  const filled = template
    .replaceAll('@NODE@', values.nodePath)
    .replaceAll('@AGENT@', values.agentScript)
    .replaceAll('@LISTEN@', values.listen)
    .replaceAll('@STATE_DIR@', values.stateDir);
  const left = /@[A-Z_]+@/.exec(filled);
  if (left) throw new ArmoryError('ENROLL_E_BUNDLE', `a unit template has a placeholder enrollment does not know: ${left[0]}`);
  return filled;
}

export function readUnitTemplate(bundleDir: string, scope: UnitScope): string {
  const file = path.join(bundleDir, UNIT_TEMPLATES[scope]);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ArmoryError('ENROLL_E_BUNDLE', `cannot read the unit template ${file}: ${(e as Error).message}`);
  }
}
