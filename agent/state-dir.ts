import fs from 'node:fs';
import path from 'node:path';
import { ArmoryError } from '../common/errors/armory-error.js';
import { isSameLiveProcess, readProcStat } from '../common/node/proc-stat.js';

/** Where everything of one agent lives. */
export interface StateDirLayout {
  root: string;
  socket: string;
  pidFile: string;
  stateFile: string;
  eventsDir: string;
  logDir: string;
  runDir: string;
}

export function stateDirLayout(root: string): StateDirLayout {
  const r = path.resolve(root);
  return {
    root: r,
    socket: path.join(r, 'agent.sock'),
    pidFile: path.join(r, 'agent.pid'),
    stateFile: path.join(r, 'state.json'),
    eventsDir: path.join(r, 'events'),
    logDir: path.join(r, 'logs'),
    runDir: path.join(r, 'run'),
  };
}

export function prepareStateDir(layout: StateDirLayout): void {
  try {
    for (const d of [layout.root, layout.eventsDir, layout.logDir, layout.runDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    fs.chmodSync(layout.root, 0o700);
  } catch (e) {
    throw new ArmoryError('AGENT_E_STATE_DIR', `cannot use state directory ${layout.root}: ${(e as Error).message}`);
  }
  // Unix socket paths are limited to 107 bytes.
  if (Buffer.byteLength(layout.socket) > 107) {
    throw new ArmoryError('AGENT_E_STATE_DIR', `state directory path is too long for a Unix socket (${layout.socket})`);
  }
}

/** Refuses to start when another live agent holds this state directory; records our pid otherwise. */
export function lockStateDir(layout: StateDirLayout): void {
  try {
    const [pidText, ticksText] = fs.readFileSync(layout.pidFile, 'utf8').trim().split(' ');
    const pid = Number(pidText);
    if (pid !== process.pid && Number.isInteger(pid) && isSameLiveProcess(pid, Number(ticksText))) {
      throw new ArmoryError('AGENT_E_ALREADY_RUNNING', `another agent (pid ${pid}) already uses ${layout.root}`, { pid });
    }
  } catch (e) {
    if (e instanceof ArmoryError) throw e;
  }
  const me = readProcStat(process.pid);
  fs.writeFileSync(layout.pidFile, `${process.pid} ${me?.startTicks ?? 0}\n`, { mode: 0o600 });
}
