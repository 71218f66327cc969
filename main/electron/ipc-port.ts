import { ipcMain, type IpcMainEvent, type WebContents } from 'electron';
import type { Disposable } from '../../common/bridge/domain.js';
import type { RpcPort } from '../../common/rpc/port.js';
import { BRIDGE_CHANNEL } from './ipc-channel.js';
import type { IpcSenderInfo } from './sender-check.js';

/** What is known of the sender of an IPC message, for the bridge-host's check (sender-check.ts). */
export function senderInfo(event: IpcMainEvent): IpcSenderInfo {
  const frame = event.senderFrame;
  return Object.freeze({
    kind: 'electron-ipc',
    webContentsId: event.sender.id,
    frameUrl: frame && !frame.isDestroyed() ? frame.url : null,
    mainFrame: frame !== null && frame.parent === null,
  });
}

/**
 * The bridge's port over Electron IPC for one window: messages from that window's webContents on
 * the bridge channel come in with their sender info as the origin; answers and events go back to
 * it. The one place (with the preload) where ipcMain/ipcRenderer are used.
 */
export function ipcPort(contents: WebContents): RpcPort {
  const listeners = new Set<(message: unknown, origin?: unknown) => void>();
  const closers = new Set<() => void>();
  let open = true;
  const onIpc = (event: IpcMainEvent, message: unknown) => {
    if (event.sender.id !== contents.id) return;
    const origin = senderInfo(event);
    for (const l of listeners) l(message, origin);
  };
  const close = () => {
    if (!open) return;
    open = false;
    ipcMain.off(BRIDGE_CHANNEL, onIpc);
    for (const c of closers) c();
    closers.clear();
    listeners.clear();
  };
  ipcMain.on(BRIDGE_CHANNEL, onIpc);
  contents.once('destroyed', close);
  const on = <T>(set: Set<T>, item: T): Disposable => {
    set.add(item);
    return { dispose: () => set.delete(item) };
  };
  return {
    send(message) {
      if (open && !contents.isDestroyed()) contents.send(BRIDGE_CHANNEL, message);
    },
    onMessage: (listener) => on(listeners, listener),
    onClose: (listener) => on(closers, listener),
    close,
  };
}
