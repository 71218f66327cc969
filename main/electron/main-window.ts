import { BrowserWindow } from 'electron';
import type { RpcPort } from '../../common/rpc/port.js';
import type { RpcConnection } from '../../common/rpc/rpc-server.js';
import type { BridgeHost } from '../bridge-host/bridge-host.js';
import { APP_INDEX_URL } from './app-origin.js';
import { ipcPort } from './ipc-port.js';
import { checkIpcSender } from './sender-check.js';

export interface MainWindowOptions {
  readonly preload: string;
  readonly icon: string;
  readonly bridge: BridgeHost;
  /** Asked when the user closes the window: true keeps the app in the tray (the window hides). */
  readonly keepInTray: () => boolean;
  readonly devTools: boolean;
}

/**
 * The app's one window: sandboxed, context-isolated, no Node in the page, its own preload only,
 * showing app://armory/. Its IPC port is attached to the bridge-host with the sender check; a
 * reload or a crashed page gets a fresh connection (the old one's subscriptions end).
 */
export class MainWindow {
  private win: BrowserWindow | null = null;
  private connection: RpcConnection | null = null;
  private port: RpcPort | null = null;
  private quitting = false;

  constructor(private readonly o: MainWindowOptions) {}

  /** Shows the window, creating it if needed. */
  show(): BrowserWindow {
    const win = this.win ?? this.create();
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
    return win;
  }

  /** Shows the window on one of the GUI's screens (`services/web`): a same-document navigation. */
  open(route: string): void {
    const win = this.show();
    void win.loadURL(`${APP_INDEX_URL}#${route.split('/').map(encodeURIComponent).join('/')}`);
  }

  get exists(): boolean {
    return this.win !== null;
  }

  /** From now on closing the window closes it (the app is quitting). */
  allowClose(): void {
    this.quitting = true;
  }

  private attach(win: BrowserWindow): void {
    this.detach();
    const id = win.webContents.id;
    this.port = ipcPort(win.webContents);
    this.connection = this.o.bridge.attach(this.port, (origin) => checkIpcSender(origin, { webContentsId: id }));
  }

  private detach(): void {
    this.connection?.dispose();
    this.port?.close?.();
    this.connection = null;
    this.port = null;
  }

  private create(): BrowserWindow {
    const win = new BrowserWindow({
      width: 1200,
      height: 800,
      minWidth: 720,
      minHeight: 480,
      show: false,
      title: 'Armory',
      icon: this.o.icon,
      backgroundColor: '#ffffff',
      webPreferences: {
        preload: this.o.preload,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        devTools: this.o.devTools,
      },
    });
    win.removeMenu();
    this.win = win;
    this.attach(win);
    win.webContents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument && this.connection) this.attach(win);
    });
    win.webContents.on('render-process-gone', () => this.attach(win));
    win.once('ready-to-show', () => win.show());
    win.on('close', (event) => {
      if (!this.quitting && this.o.keepInTray()) {
        event.preventDefault();
        win.hide();
      }
    });
    win.on('closed', () => {
      this.detach();
      this.win = null;
    });
    void win.loadURL(APP_INDEX_URL);
    return win;
  }
}
