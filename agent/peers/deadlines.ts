/**
 * The deadlines of a failover group, derived from its heartbeat interval h and failure timeout F.
 *
 * A voter V that votes for X promises not to vote for anyone else until F after the last heartbeat
 * it received from X (X is "fresh" until then), unless X has announced that it holds nothing.
 * X counts V's vote only until its lease runs out: L after the moment X SENT the heartbeat that V's
 * vote echoes. That send time comes before V's reception, so X's lease always starts no later than
 * V's promise does.
 *
 * Clocks: each node measures with its own monotonic clock, whose rate may differ from real time by
 * a factor within [1 − ρ, 1 + ρ]. Measured locally, X's lease ends at most L / (1 − ρ) of real time
 * after it started; V's promise lasts at least F / (1 + ρ). For X to have stopped counting V's vote
 * before V can give it to anyone else:
 *
 *     L / (1 − ρ) < F / (1 + ρ)      ⇔      L < F · (1 − ρ) / (1 + ρ)
 *
 * and X must also have finished stepping down (removed the virtual IP) by then, so a margin M for
 * that is taken off too:
 *
 *     L = ⌊F · (1 − ρ) / (1 + ρ)⌋ − M
 *
 * ρ = 0.002 (2000 ppm) covers crystal tolerance (≈ 100 ppm) plus the most NTP slews a monotonic
 * clock (≈ 500 ppm) with room to spare. M = max(20 ms, F / 5): 60 ms at the defaults, well above
 * the few milliseconds `ip addr del` takes. At the defaults (h = 100 ms, F = 300 ms):
 * L = ⌊300 · 0.998 / 1.002⌋ − 60 = 298 − 60 = 238 ms. A lease is renewed every h plus a round
 * trip (voters answer the active node's heartbeat at once), so 238 ms leaves > 130 ms for
 * scheduling jitter before an active node steps down needlessly.
 *
 * The takeover happens F after the old active node was last heard: the step-down deadline (L after
 * its last renewal) falls before it by at least M plus the skew term, in real time.
 */
export const CLOCK_RATE_SKEW = 0.002;

export interface GroupDeadlines {
  /** Interval of heartbeats (h). */
  readonly heartbeatMs: number;
  /** A voter unheard for this long is stale, and a vote promised to it is free again (F). */
  readonly failAfterMs: number;
  /** How long a vote counts for the node it was given to, from that node's send time (L). */
  readonly leaseMs: number;
  /** The margin kept for stepping down (M). */
  readonly stepDownMarginMs: number;
  /** How often a node re-evaluates its deadlines. */
  readonly tickMs: number;
}

export function groupDeadlines(heartbeatMs: number, failAfterMs: number, skew = CLOCK_RATE_SKEW): GroupDeadlines {
  const margin = Math.max(20, Math.round(failAfterMs / 5));
  const leaseMs = Math.floor((failAfterMs * (1 - skew)) / (1 + skew)) - margin;
  return Object.freeze({
    heartbeatMs,
    failAfterMs,
    leaseMs,
    stepDownMarginMs: margin,
    tickMs: Math.max(5, Math.min(10, Math.floor(heartbeatMs / 10))),
  });
}
