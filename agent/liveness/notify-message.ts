/** The largest notify datagram accepted; systemd itself refuses more than this. */
export const MAX_NOTIFY_BYTES = 4096;

/** What one sd_notify datagram says, as far as Armory acts on it. */
export interface NotifyMessage {
  ready?: true;
  reloading?: true;
  stopping?: true;
  watchdog?: 'ping' | 'trigger';
  watchdogUsec?: number;
  extendTimeoutUsec?: number;
  status?: string;
  mainPid?: number;
  errno?: number;
  /** Lines that were not understood (kept for the event, never acted on). */
  unknown: string[];
}

const positiveInt = (v: string): number | undefined => (/^\d{1,15}$/.test(v) ? Number(v) : undefined);

/**
 * Parses a notify datagram: newline-separated KEY=VALUE assignments. Bad input never throws: an
 * oversized datagram or a malformed line is reported in the result for the caller to journal.
 */
export function parseNotifyMessage(bytes: Uint8Array): { ok: true; message: NotifyMessage } | { ok: false; error: string } {
  if (bytes.length === 0) return { ok: false, error: 'empty notify datagram' };
  if (bytes.length > MAX_NOTIFY_BYTES) return { ok: false, error: `notify datagram of ${bytes.length} bytes exceeds ${MAX_NOTIFY_BYTES}` };
  if (bytes.includes(0)) return { ok: false, error: 'notify datagram contains a NUL byte' };
  const text = Buffer.from(bytes).toString('utf8');
  const message: NotifyMessage = { unknown: [] };
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      message.unknown.push(line);
      continue;
    }
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    switch (key) {
      case 'READY':
        if (value === '1') message.ready = true;
        break;
      case 'RELOADING':
        if (value === '1') message.reloading = true;
        break;
      case 'STOPPING':
        if (value === '1') message.stopping = true;
        break;
      case 'WATCHDOG':
        if (value === '1') message.watchdog = 'ping';
        else if (value === 'trigger') message.watchdog = 'trigger';
        else message.unknown.push(line);
        break;
      case 'WATCHDOG_USEC': {
        const n = positiveInt(value);
        if (n !== undefined && n > 0) message.watchdogUsec = n;
        else message.unknown.push(line);
        break;
      }
      case 'EXTEND_TIMEOUT_USEC': {
        const n = positiveInt(value);
        if (n !== undefined) message.extendTimeoutUsec = n;
        else message.unknown.push(line);
        break;
      }
      case 'STATUS':
        message.status = Array.from(value).slice(0, 512).join('');
        break;
      case 'MAINPID': {
        const n = positiveInt(value);
        if (n !== undefined && n > 1) message.mainPid = n;
        else message.unknown.push(line);
        break;
      }
      case 'ERRNO': {
        const n = positiveInt(value);
        if (n !== undefined) message.errno = n;
        else message.unknown.push(line);
        break;
      }
      case 'BARRIER':
      case 'MONOTONIC_USEC':
      case 'NOTIFYACCESS':
      case 'FDSTORE':
      case 'FDNAME':
      case 'FDSTOREREMOVE':
      case 'BUSERROR':
      case 'EXIT_STATUS':
        break;
      default:
        message.unknown.push(line);
    }
  }
  return { ok: true, message };
}

/** True when a message asks for nothing (a bare BARRIER=1, say): it is dropped without a check. */
export function isEmptyNotify(m: NotifyMessage): boolean {
  return Object.keys(m).every((k) => k === 'unknown') && m.unknown.length === 0;
}
