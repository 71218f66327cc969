/**
 * How the client end of a shim tries to get a path back: when, and how long each try may take.
 *
 * - The first attempt goes at once, and so does the first retry: the attempt before it has either
 *   been refused at once (the node has no server end yet) or waited out its timeout. From the
 *   third on, attempts back off exponentially with jitter, so that many sessions broken together
 *   do not retry in step (no reconnect storm), up to `maxDelayMs`: one heartbeat (between 100 ms
 *   and 1 s), the rate at which a session sends anyway.
 * - An attempt's TCP connect is given `connectMs`: on a LAN a connection is set up in a millisecond
 *   or its SYN was lost, and the kernel sends the SYN again only after a second. A VIP on the move
 *   loses SYNs until the new holder's gratuitous ARP, so a short connect timeout followed by a new
 *   connect reaches the new holder sooner than the kernel's retransmission would.
 * - The whole attempt (TLS handshake and the server end's answer) is given `answerMs`: two
 *   heartbeats, and at least 1 s. Measured: at a 100 ms heartbeat, 200 ms was too short for a TLS
 *   handshake on a loaded 2-core machine (the session resume tests, three at once); attempts kept
 *   timing out and a stream through the shim stalled.
 * Both timeouts double with each try that ran out of time (up to `maxAttemptMs`), so that a loaded
 * machine whose answers are slow still gets a path on a later try; a try refused at once (nothing
 * listens yet where the service is moving to) says nothing about slowness and does not count.
 */
export interface ReconnectPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** The first try's connect timeout. */
  readonly connectMs: number;
  /** The first try's timeout for the whole attempt. */
  readonly answerMs: number;
  /** The most any try is given. */
  readonly maxAttemptMs: number;
}

export function reconnectPolicy(heartbeatMs: number): ReconnectPolicy {
  const answerMs = Math.max(1000, 2 * heartbeatMs);
  return Object.freeze({
    initialDelayMs: 25,
    maxDelayMs: Math.max(100, Math.min(1000, heartbeatMs)),
    connectMs: Math.min(answerMs, Math.max(20, Math.min(heartbeatMs, 250))),
    answerMs,
    maxAttemptMs: Math.max(4000, answerMs),
  });
}

/** The delay before the next attempt, after `tries` attempts since the path was lost (0: it just broke); `random` in [0, 1). */
export function reconnectDelay(p: ReconnectPolicy, tries: number, random: number): number {
  if (tries <= 1) return 0;
  const base = Math.min(p.maxDelayMs, p.initialDelayMs * 2 ** Math.min(tries - 2, 16));
  return Math.round(base * (0.5 + random * 0.5));
}

/** The timeouts of an attempt after `timedOut` attempts since the path was lost ran out of time. */
export function attemptTimeouts(p: ReconnectPolicy, timedOut: number): { connectMs: number; answerMs: number } {
  const factor = 2 ** Math.min(Math.max(0, timedOut), 16);
  const answerMs = Math.min(p.maxAttemptMs, p.answerMs * factor);
  return { connectMs: Math.min(answerMs, p.connectMs * factor), answerMs };
}
