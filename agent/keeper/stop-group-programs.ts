import { DurableFile } from '../../common/node/durable-file.js';
import { groupHasLiveMember, isSameLiveProcess, readProcStat } from '../../common/node/proc-stat.js';
import { agentStateSchema } from '../journal/agent-state.js';
import { heldServicesFile, readHeldServices, type HeldService } from '../peers/held-services.js';
import { stateDirLayout } from '../state-dir.js';
import { signalGroup } from '../supervisor/proc.js';

export interface StopGroupProgramsOptions {
  /** The longest a program is given to exit after its stop signal, whatever its own grace (then SIGKILL). */
  maxGraceMs?: number;
  /** How long to wait for the SIGKILLed ones to be gone. */
  killWaitMs?: number;
  pollMs?: number;
}

interface Target extends HeldService {
  pid: number;
  startTicks: number;
  /** The process group signalled, or null: the pid alone (it shares a group with the caller). */
  pgid: number | null;
  deadline: number;
  killed: boolean;
  goneAt: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function send(t: Target, signal: NodeJS.Signals): void {
  if (t.pgid !== null) {
    signalGroup(t.pgid, signal);
    return;
  }
  try {
    process.kill(t.pid, signal);
  } catch {
    // gone
  }
}

/**
 * Stops the programs of the failover groups a dead agent was a member of, the way its supervisor
 * would: the service's stop signal (with SIGCONT, in case it was stopped), then SIGKILL to the
 * process group once its grace — bounded by `maxGraceMs` — is over. Once the agent is dead the
 * node no longer heartbeats and a standby takes the group over; a copy left running here would
 * answer and write beside it. A process is stopped only when the agent's state journal names it
 * with the start time /proc still shows for that pid, so a reused pid is never touched. Programs
 * of no group are left alone: a restarted agent re-adopts them. Says what it did.
 */
export async function stopGroupPrograms(stateDir: string, options: StopGroupProgramsOptions = {}): Promise<string[]> {
  const maxGrace = options.maxGraceMs ?? 3000;
  const killWait = options.killWaitMs ?? 1000;
  const poll = options.pollMs ?? 20;
  const held = readHeldServices(heldServicesFile(stateDir));
  if (held.length === 0) return [];
  let services: Record<string, { pid: number | null; startTicks: number | null }>;
  try {
    services = (await new DurableFile(stateDirLayout(stateDir).stateFile, agentStateSchema).read())?.services ?? {};
  } catch (e) {
    return [`cannot read the agent's state journal, so no group program was stopped: ${(e as Error).message}`];
  }
  const ownGroup = readProcStat(process.pid)?.pgrp ?? process.pid;
  const started = Date.now();
  const targets: Target[] = [];
  for (const h of held) {
    const snap = services[h.service];
    if (!snap || snap.pid === null || snap.startTicks === null || !isSameLiveProcess(snap.pid, snap.startTicks)) continue;
    const pgrp = readProcStat(snap.pid)?.pgrp ?? snap.pid;
    const t: Target = { ...h, pid: snap.pid, startTicks: snap.startTicks, pgid: pgrp === ownGroup ? null : pgrp, deadline: started + Math.min(h.graceMs, maxGrace), killed: false, goneAt: null };
    targets.push(t);
    send(t, h.signal);
    send(t, 'SIGCONT');
  }
  const said: string[] = [];
  // Gone: the program and, when it has a group of its own, every process of that group.
  const alive = (t: Target) => isSameLiveProcess(t.pid, t.startTicks) || (t.pgid !== null && groupHasLiveMember(t.pgid));
  const last = started + maxGrace + killWait;
  for (;;) {
    const now = Date.now();
    for (const t of targets) {
      if (t.goneAt === null && !alive(t)) t.goneAt = now;
      if (t.goneAt === null && !t.killed && now >= t.deadline) {
        t.killed = true;
        send(t, 'SIGKILL');
        said.push(`${t.service} (pid ${t.pid}, group ${t.group}) did not exit within ${t.deadline - started} ms of ${t.signal}: sent SIGKILL to its process group`);
      }
    }
    if (targets.every((t) => t.goneAt !== null) || now >= last) break;
    await sleep(poll);
  }
  for (const t of targets) {
    said.push(
      t.goneAt === null
        ? `${t.service} (pid ${t.pid}, group ${t.group}) is still running ${Date.now() - started} ms after it was told to stop`
        : `stopped ${t.service} (pid ${t.pid}, group ${t.group}) in ${t.goneAt - started} ms: its agent is gone and a standby takes the group over`,
    );
  }
  return said;
}
