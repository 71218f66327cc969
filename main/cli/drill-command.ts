import { parseDuration } from '../../common/config/units.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { intFlag } from '../../common/node/cli-args.js';
import { DRILL_FAULTS } from '../../common/wire/drill.js';
import type { Manager } from '../core/manager.js';
import { formatDrillList, formatDrillReport } from './drill-view.js';

const out = (s: string) => process.stdout.write(`${s}\n`);

interface DrillFlags {
  json?: boolean;
  fault?: string;
  duration?: string;
  force?: boolean;
  list?: boolean;
  show?: string;
  service?: string;
  limit?: string;
}

/** `armory drill SERVICE --fault F`, `armory drill --list`, `armory drill --show ID`. */
export async function drillCommand(manager: Manager, args: string[], values: DrillFlags, usageText: string): Promise<number> {
  const usage = (m: string): never => {
    throw new ArmoryError('CLI_E_USAGE', `${m}\n\n${usageText}`);
  };
  if (values.list) {
    if (args.length > 0) usage('drill --list takes no service (use --service S)');
    const reports = manager.drills.list(intFlag(values.limit, 'limit', 20, 1, 1000, usageText), values.service);
    out(values.json ? JSON.stringify({ drills: reports.map(({ probes: _p, events: _e, ...r }) => r) }, null, 2) : formatDrillList(reports).join('\n'));
    return 0;
  }
  if (values.show !== undefined) {
    if (args.length > 0) usage('drill --show takes a report id only');
    const r = manager.drills.get(values.show);
    out(values.json ? JSON.stringify(r, null, 2) : formatDrillReport(r).join('\n'));
    return 0;
  }
  if (args.length !== 1) usage('drill takes one SERVICE (or --list, --show ID)');
  if (values.fault === undefined) usage(`drill needs --fault (${DRILL_FAULTS.join(', ')})`);
  const durationMs = values.duration === undefined ? 5000 : parseDuration(values.duration);
  if (durationMs === undefined || durationMs < 100 || durationMs > 120_000) usage('--duration takes a duration from 100ms to 2m, like 5s');
  let said = '';
  const report = await manager.drills.run({ service: args[0] as string, fault: values.fault as string, durationMs: durationMs as number, force: values.force ?? false }, (p) => {
    const line = `${p.phase.padEnd(9)} ${p.text}`;
    if (!values.json && p.phase !== 'done' && line !== said) process.stderr.write(`${line}\n`);
    said = line;
  });
  out(values.json ? JSON.stringify(report, null, 2) : formatDrillReport(report).join('\n'));
  return report.verdict === 'not-recovered' || report.verdict === 'over-budget' ? 1 : 0;
}
