// The desktop window's preload (sandboxed, bundled to one CommonJS file): exposes the bridge as
// `window.armory` and nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_CHANNEL } from '../ipc-channel.js';
import { createArmoryBridge } from './armory-bridge.js';

const armory = createArmoryBridge({
  send: (message) => ipcRenderer.send(BRIDGE_CHANNEL, message),
  onMessage: (listener) => {
    ipcRenderer.on(BRIDGE_CHANNEL, (_event, message: unknown) => listener(message));
  },
});

contextBridge.exposeInMainWorld('armory', armory);
