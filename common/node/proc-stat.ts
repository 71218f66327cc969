import fs from 'node:fs';

/** The fields of /proc/PID/stat Armory needs. */
export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks since boot: with the pid, it names one process for good. */
  startTicks: number;
  /** The process is on its way out (the kernel's PF_EXITING): it closed or is closing its files. */
  exiting: boolean;
}

const PF_EXITING = 0x4;

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(rest[19]);
  if (!Number.isFinite(startTicks)) return null;
  return { pid, state: rest[0] ?? '?', ppid: Number(rest[1]), pgrp: Number(rest[2]), startTicks, exiting: (Number(rest[6]) & PF_EXITING) !== 0 };
}

/** True when the pid still names the very process that was started at startTicks and it is not a zombie. */
export function isSameLiveProcess(pid: number, startTicks: number): boolean {
  const s = readProcStat(pid);
  return s !== null && s.startTicks === startTicks && s.state !== 'Z' && s.state !== 'X';
}

/** True when the process started at startTicks as `pid` is gone, a zombie, or on its way out (its sockets are closing). */
export function hasExited(pid: number, startTicks: number): boolean {
  const s = readProcStat(pid);
  return s === null || s.startTicks !== startTicks || s.state === 'Z' || s.state === 'X' || s.exiting;
}

/** The processes of group `pgid` that are not zombies (children outlive their parent for a moment). */
export function liveGroupMembers(pgid: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readProcStat(Number(entry));
    if (s && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X') members.push(s);
  }
  return members;
}

/** True while a process of group `pgid` is there that is not a zombie. */
export function groupHasLiveMember(pgid: number): boolean {
  return liveGroupMembers(pgid).length > 0;
}

/**
 * True when a process of group `pgid` is stopped. Not only the leader: a shell that spawned its
 * command with vfork() waits uninterruptibly (state D) while that child is the one stopped, so a
 * SIGSTOP to the group can leave the leader in D for as long as the group is stopped.
 */
export function groupHasStoppedMember(pgid: number): boolean {
  return liveGroupMembers(pgid).some((s) => s.state === 'T');
}
