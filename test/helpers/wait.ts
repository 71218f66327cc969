import { withTimeout } from '../../common/node/with-timeout.js';

/** Waits until `check` returns a truthy value, polling every `everyMs`; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, options: { timeoutMs?: number; everyMs?: number } = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const everyMs = options.everyMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `p`, or an error naming `what` (and what `state()` tells then) when it has not settled within `ms`. */
export function within<T>(ms: number, what: string, p: Promise<T>, state: () => unknown = () => undefined): Promise<T> {
  let late = false;
  return withTimeout(p, ms, () => (late = true)).catch((e: unknown) => {
    throw late ? new Error(`${what} did not settle within ${ms} ms; then: ${JSON.stringify(state())}`) : e;
  });
}
