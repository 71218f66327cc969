import { bridgeOverRpc } from '../../common/bridge/bridge-proxy.js';
import type { ArmoryBridge } from '../../common/bridge/contract.js';
import type { RpcPort } from '../../common/rpc/port.js';
import { RpcClient } from '../../common/rpc/rpc-client.js';
import { browserWebSocketPort } from './browser-ws-port.js';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in the console. */
    readonly armory?: ArmoryBridge;
  }
}

/**
 * The bridge, wherever the GUI runs: the preload's frozen `window.armory` in Electron, else the
 * console's WebSocket (same origin, the session token from the page's address). The GUI cannot
 * tell which one it has.
 */
export function connectBridge(onClosed: () => void): ArmoryBridge {
  if (window.armory) return window.armory;
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const port: RpcPort = browserWebSocketPort(`${location.origin.replace(/^http/, 'ws')}/bridge?token=${encodeURIComponent(token)}`);
  port.onClose?.(onClosed);
  return bridgeOverRpc(new RpcClient(port));
}
