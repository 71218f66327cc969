/**
 * The failover budget of a group, as the manager shows it: detection (the failure timeout plus one
 * heartbeat of phase), the start of the service (until it is ready), and the gratuitous ARP that
 * moves clients over.
 */
export interface FailoverBudget {
  detectMs: number;
  startMs: number;
  arpMs: number;
  totalMs: number;
}

export function failoverBudget(heartbeatMs: number, failAfterMs: number, startMs: number, arpMs = 20): FailoverBudget {
  const detectMs = failAfterMs + heartbeatMs;
  return { detectMs, startMs, arpMs, totalMs: detectMs + startMs + arpMs };
}
