import type { ServiceStatus } from '../../common/wire/service-status.js';

export type Tone = 'ok' | 'warn' | 'bad' | 'idle';

/** What the user reads for a service's state (colour plus words): ready, starting, backing off, failed, escalated, stopped, unknown. */
export function stateLabel(s: Pick<ServiceStatus, 'state' | 'ready' | 'desired'> | null, reachable = true): { text: string; tone: Tone } {
  if (!s || !reachable) return { text: 'unknown', tone: 'idle' };
  switch (s.state) {
    case 'running':
      return s.ready ? { text: 'ready', tone: 'ok' } : { text: 'starting', tone: 'warn' };
    case 'starting':
      return { text: 'starting', tone: 'warn' };
    case 'backing-off':
      return { text: 'backing off', tone: 'warn' };
    case 'failed':
      return { text: 'failed', tone: 'bad' };
    case 'escalated':
      return { text: 'escalated', tone: 'bad' };
    case 'stopping':
      return { text: 'stopping', tone: 'idle' };
    case 'stopped':
      return { text: s.desired === 'up' ? 'stopped' : 'standby', tone: 'idle' };
  }
}

/** Writes a state into a badge element (reused across updates). */
export function paintBadge(el: HTMLElement, label: { text: string; tone: Tone }): void {
  if (el.textContent !== label.text) el.textContent = label.text;
  const cls = `badge tone-${label.tone}`;
  if (el.className !== cls) el.className = cls;
}
