import { ArmoryError } from '../errors/armory-error.js';

/**
 * A promise bounded in time: it settles as `p` does, or rejects with AGENT_E_UNREACHABLE ("no answer
 * within MS ms") after `ms`, calling `onTimeout` first (e.g. to close the connection). The timer is
 * cleared as soon as `p` settles, so nothing lingers after the answer.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new ArmoryError('AGENT_E_UNREACHABLE', `no answer within ${ms} ms`, { timeoutMs: ms }));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
