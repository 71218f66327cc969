import type { z } from 'zod';
import { serviceSchema, type ServiceConfig } from '../../../../common/config/service.js';
import { LivenessMonitor } from '../../../../agent/liveness/liveness-monitor.js';
import { parseNotifyMessage, type NotifyMessage } from '../../../../agent/liveness/notify-message.js';

export type ServiceInput = Partial<z.input<typeof serviceSchema>>;

/** A service specification parsed through the real schema, so that every default is filled in. */
export function serviceSpec(input: ServiceInput = {}): ServiceConfig {
  return serviceSchema.parse({ command: 'x', ...input });
}

/** A notify message as the program would send it, through the real parser. */
export function notifyOf(text: string): NotifyMessage {
  const r = parseNotifyMessage(new TextEncoder().encode(text));
  if (!r.ok) throw new Error(`test bug: ${JSON.stringify(text)} is refused: ${r.error}`);
  return r.message;
}

/** What the monitor told its owner, in order. */
export interface Seen {
  ready: number;
  hung: string[];
  /** Date.now() when hung() was called (the last time). */
  hungAt: number | null;
  extended: number[];
  notes: string[];
}

const live: LivenessMonitor[] = [];

/** A monitor for a service given as configuration input, recording every callback. */
export function watch(input: ServiceInput = {}): { monitor: LivenessMonitor; seen: Seen } {
  const seen: Seen = { ready: 0, hung: [], hungAt: null, extended: [], notes: [] };
  const monitor = new LivenessMonitor(serviceSpec(input), {
    ready: () => {
      seen.ready += 1;
    },
    hung: (detail) => {
      seen.hung.push(detail);
      seen.hungAt = Date.now();
    },
    extend: (ms) => seen.extended.push(ms),
    note: (text) => seen.notes.push(text),
  });
  live.push(monitor);
  return { monitor, seen };
}

/** Ends every monitor a test made (call from afterEach), so that none keeps a timer or a probe going. */
export function endMonitors(): void {
  for (const m of live.splice(0)) m.end();
}
