import { isAppUrl } from './app-origin.js';

/** What the main process knows of an IPC message's sender, taken from the Electron event. */
export interface IpcSenderInfo {
  readonly kind: 'electron-ipc';
  /** The id of the webContents the message came from. */
  readonly webContentsId: number;
  /** The URL of the frame that sent it; null when the frame is gone or navigated away. */
  readonly frameUrl: string | null;
  /** Whether that frame is its page's top frame (not an iframe). */
  readonly mainFrame: boolean;
}

/**
 * The bridge's sender check in the desktop app: only the app's own window, from its top frame,
 * showing the app's own origin, may call the manager. Null lets the message through; otherwise the
 * reason it is refused (answered as BRIDGE_E_UNTRUSTED).
 */
export function checkIpcSender(origin: unknown, expected: { webContentsId: number }): string | null {
  const o = origin as Partial<IpcSenderInfo> | null | undefined;
  if (!o || o.kind !== 'electron-ipc') return 'the message did not come through the desktop app IPC';
  if (o.webContentsId !== expected.webContentsId) return `the message came from another web page (webContents ${String(o.webContentsId)})`;
  if (!o.mainFrame) return 'the message came from a sub-frame, not the window itself';
  if (typeof o.frameUrl !== 'string') return 'the sending frame is gone';
  if (!isAppUrl(o.frameUrl)) return `the sending frame shows ${o.frameUrl.slice(0, 100)}, not the app`;
  return null;
}
