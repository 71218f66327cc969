import { z } from 'zod';

/** Names of services, nodes, groups and jobs end up in file names and URLs: keep them plain. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const name = (what: string) =>
  z
    .string()
    .regex(NAME_PATTERN, `a ${what} name is 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit`);

export const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGKILL'] as const;
export type StopSignal = (typeof SIGNALS)[number];
