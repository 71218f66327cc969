/**
 * The one IPC channel of the desktop app: it carries common/rpc messages (requests, answers, events)
 * between the preload and the bridge-host. Named here only; neither the renderer nor anything
 * outside main/electron sees it.
 */
export const BRIDGE_CHANNEL = 'armory:bridge';
