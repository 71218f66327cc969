import type { ShimJournal } from './client-end.js';

/**
 * Keeps the shims from flooding the agent's journal (a peer retrying a bad resume, thousands of
 * sessions breaking at once): per service, end and code at most `burst` events per `windowMs`;
 * the next event let through says how many were left out.
 */
export function limitJournal(journal: ShimJournal, options: { burst: number; windowMs: number; now?: () => number } = { burst: 20, windowMs: 10_000 }): ShimJournal {
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number; dropped: number }>();
  return (e) => {
    const key = `${e.service}\0${e.end}\0${e.code ?? ''}`;
    const t = now();
    let w = windows.get(key);
    if (!w || t - w.start >= options.windowMs) {
      if (windows.size > 1000) windows.clear();
      w = { start: t, count: 0, dropped: w?.dropped ?? 0 };
      windows.set(key, w);
    }
    if (w.count >= options.burst) {
      w.dropped += 1;
      return;
    }
    w.count += 1;
    const dropped = w.dropped;
    w.dropped = 0;
    journal(dropped > 0 ? { ...e, text: `${e.text} (${dropped} similar events left out)` } : e);
  };
}
