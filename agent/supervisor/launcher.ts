import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ServiceConfig } from '../../common/config/service.js';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { lookupUser } from './user.js';

/** Finds the executable the way execvp would, so that a missing one gets a clear reason before spawn. */
export function resolveCommand(command: string, envPath: string | undefined, cwd: string): string {
  const candidates = command.includes('/')
    ? [path.resolve(cwd, command)]
    : (envPath ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
        .split(':')
        .filter((d) => d.length > 0)
        .map((d) => path.join(d, command));
  for (const c of candidates) {
    try {
      const st = fs.statSync(c);
      if (!st.isFile()) continue;
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // try the next one
    }
  }
  throw new ArmoryError(
    'SUPERVISOR_E_SPAWN',
    command.includes('/') ? `${command}: no such executable file` : `${command}: command not found in PATH`,
    { command },
  );
}

/** What launch needs of a program: a service's entry, or a job replica's. */
export type LaunchSpec = Pick<ServiceConfig, 'command' | 'args' | 'cwd' | 'env' | 'user'>;

export interface LaunchOptions {
  service: string;
  instance: string;
  /** stdout and stderr: a file descriptor, or a pipe the caller reads. */
  stdio: [number | 'pipe', number | 'pipe'];
  /** A file descriptor to read stdin from; none by default. */
  stdin?: number;
  extraEnv?: Record<string, string>;
  /** Set WATCHDOG_PID to the program's own pid (through a shell that execs it, keeping the pid). */
  watchdogPid?: boolean;
}

/**
 * Starts a program in a session and process group of its own, with its cwd, env and user. Problems
 * a restart cannot fix (no such executable, unusable cwd, unknown user) throw a coded error first.
 */
export function launch(spec: LaunchSpec, options: LaunchOptions): ChildProcess {
  const st = fs.statSync(spec.cwd, { throwIfNoEntry: false });
  if (!st) throw new ArmoryError('SUPERVISOR_E_CWD', `working directory ${spec.cwd} does not exist`, { cwd: spec.cwd });
  if (!st.isDirectory()) throw new ArmoryError('SUPERVISOR_E_CWD', `working directory ${spec.cwd} is not a directory`, { cwd: spec.cwd });
  const user = spec.user !== undefined ? lookupUser(spec.user) : undefined;
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...spec.env };
  if (user) Object.assign(env, { HOME: user.home, USER: user.name, LOGNAME: user.name });
  Object.assign(env, { ARMORY_SERVICE: options.service, ARMORY_INSTANCE: options.instance }, options.extraEnv ?? {});
  const file = resolveCommand(spec.command, env.PATH, spec.cwd);
  const [exe, argv] = options.watchdogPid
    ? ['/bin/sh', ['-c', 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', spec.command, file, ...spec.args]]
    : [file, spec.args];
  return spawn(exe, argv, {
    cwd: spec.cwd,
    env,
    detached: true,
    stdio: [options.stdin ?? 'ignore', options.stdio[0], options.stdio[1]],
    ...(options.watchdogPid ? {} : { argv0: spec.command }),
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
}
