import { execFile } from 'node:child_process';

/**
 * Tells systemd (when the agent runs as a unit with Type=notify and WatchdogSec) that the agent is
 * ready and still alive. Where systemd runs, its `systemd-notify` tool is there too, so the agent
 * needs no datagram socket of its own for this (the unit sets NotifyAccess=all).
 */
export function startSystemdNotify(env: NodeJS.ProcessEnv = process.env): { stop(): void } {
  if (!env.NOTIFY_SOCKET) return { stop: () => undefined };
  const send = (...args: string[]) => execFile('systemd-notify', args, { timeout: 5000 }, () => undefined);
  send('--ready', `--status=agent running (pid ${process.pid})`);
  const usec = Number(env.WATCHDOG_USEC);
  const watchdogPid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
  if (!Number.isFinite(usec) || usec <= 0 || watchdogPid !== process.pid) return { stop: () => undefined };
  const timer = setInterval(() => send('WATCHDOG=1'), Math.max(100, usec / 1000 / 2));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
