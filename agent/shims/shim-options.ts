import type { ServiceConfig } from '../../common/config/service.js';

export type ShimConfig = ServiceConfig['shims'][number];

/** The bounds one session lives within, normalised once from the shim's configuration. */
export interface SessionBounds {
  /** Replay buffer per direction: past it the end stops reading from its program. */
  readonly buffer: number;
  /** How long a session may stay broken before both programs see an orderly close. */
  readonly brokenFor: number;
  /** The most data one DATA frame carries. */
  readonly frameSize: number;
  /** A PING goes out this often; a path silent for three intervals is dropped as half-open. */
  readonly heartbeat: number;
  /** Sessions one end carries at once. */
  readonly maxSessions: number;
}

export function sessionBounds(shim: ShimConfig): SessionBounds {
  return Object.freeze({ buffer: shim.buffer, brokenFor: shim.brokenFor, frameSize: shim.frameSize, heartbeat: shim.heartbeat, maxSessions: shim.maxSessions });
}

/** host:port → parts (IPv6 in brackets). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535) || (m[1] as string).length === 0) throw new Error(`"${text}" is not host:port`);
  return { host: m[1] as string, port };
}
