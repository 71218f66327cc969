/** A service's state changes, as the journal records them. */
export interface StateChange {
  time: number;
  to: string;
}

export interface Availability {
  /** Fraction of the known time in the window that the service was up (running and ready); null if nothing is known. */
  availability: number | null;
  upMs: number;
  knownMs: number;
}

/**
 * Availability of one service over [from, to): the time it spent `running` divided by the time its
 * state is known (from its first recorded change on). Pure, so that it can be checked exhaustively.
 */
export function availability(changes: readonly StateChange[], from: number, to: number): Availability {
  const sorted = [...changes].sort((a, b) => a.time - b.time);
  let state: string | null = null;
  let at = from;
  let upMs = 0;
  let knownMs = 0;
  for (const c of sorted) {
    if (c.time <= from) {
      state = c.to;
      continue;
    }
    if (c.time >= to) break;
    if (state !== null) {
      knownMs += c.time - at;
      if (state === 'running') upMs += c.time - at;
    }
    state = c.to;
    at = c.time;
  }
  if (state !== null && to > at) {
    knownMs += to - at;
    if (state === 'running') upMs += to - at;
  }
  return { availability: knownMs > 0 ? upMs / knownMs : null, upMs, knownMs };
}
