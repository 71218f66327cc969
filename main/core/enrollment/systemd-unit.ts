import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';

/** The unit template shipped with Armory, relative to the repository (bundle) root. */
export const UNIT_TEMPLATE = 'assets/systemd/armory-agent.service';

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
  if (left) throw new ArmoryError('ENROLL_E_BUNDLE', `the unit template ${UNIT_TEMPLATE} has a placeholder enrollment does not know: ${left[0]}`);
  return filled;
}

export function readUnitTemplate(bundleDir: string): string {
  const file = path.join(bundleDir, UNIT_TEMPLATE);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ArmoryError('ENROLL_E_BUNDLE', `cannot read the unit template ${file}: ${(e as Error).message}`);
  }
}
