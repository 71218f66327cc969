import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeDomains } from '../../../../../common/bridge/contract.js';
import { memoryPortPair } from '../../../../../common/rpc/port.js';
import { createManagerBridge } from '../../../../../main/bridge-host/manager-bridge.js';
import { Manager } from '../../../../../main/core/manager.js';
import { createArmoryBridge, type PreloadIpc } from '../../../../../main/electron/preload/armory-bridge.js';
import { checkIpcSender, type IpcSenderInfo } from '../../../../../main/electron/sender-check.js';
import { waitFor } from '../../../../helpers/wait.js';

/** A fake ipcRenderer: what the preload sends is recorded; `deliver` plays the main process. */
function fakeIpc() {
  const sent: Record<string, unknown>[] = [];
  let listener: ((m: unknown) => void) | null = null;
  const ipc: PreloadIpc = { send: (m) => sent.push(m as Record<string, unknown>), onMessage: (l) => (listener = l) };
  return { ipc, sent, deliver: (m: unknown) => listener?.(m) };
}

const capital = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;

describe('window.armory from the preload', () => {
  it('is one frozen object: a frozen object per domain of the contract, a function per method and per event subscription, nothing else', () => {
    const armory = createArmoryBridge(fakeIpc().ipc) as unknown as Record<string, Record<string, unknown>>;
    expect(Object.isFrozen(armory)).toBe(true);
    expect(Object.keys(armory).sort()).toEqual(Object.keys(bridgeDomains).sort());
    for (const [d, def] of Object.entries(bridgeDomains)) {
      const api = armory[d] as Record<string, unknown>;
      expect(Object.isFrozen(api), d).toBe(true);
      const expected = [...Object.keys(def.methods), ...Object.keys(def.events).map((e) => `on${capital(e)}`)].sort();
      expect(Object.keys(api).sort(), d).toEqual(expected);
      for (const m of expected) expect(typeof api[m], `${d}.${m}`).toBe('function');
    }
    expect(JSON.stringify(armory)).not.toMatch(/ipc|armory:bridge/);
  });

  it('a method is an RPC request answered asynchronously; an event listener is a subscription that dispose() ends', async () => {
    const f = fakeIpc();
    const armory = createArmoryBridge(f.ipc);
    const restart = armory.services.restart({ node: 'local', name: 'web' });
    expect(f.sent[0]).toMatchObject({ method: 'services.restart', params: { node: 'local', name: 'web' } });
    f.deliver({ id: f.sent[0]?.id, ok: true, result: { message: 'restarting' } });
    await expect(restart).resolves.toEqual({ message: 'restarting' });

    const seen: unknown[] = [];
    const sub = armory.events.onNotification((n) => seen.push(n));
    expect(Object.isFrozen(sub)).toBe(true);
    const subscribe = f.sent[1] as { id: number; method: string; params: unknown };
    expect(subscribe).toMatchObject({ method: 'rpc.subscribe', params: { event: 'events.notification' } });
    f.deliver({ id: subscribe.id, ok: true, result: { message: 'subscribed' } });
    f.deliver({ id: subscribe.id, event: 'events.notification', data: { title: 'x' } });
    expect(seen).toEqual([{ title: 'x' }]);
    sub.dispose();
    expect(f.sent[2]).toMatchObject({ method: 'rpc.unsubscribe', params: { id: subscribe.id } });
    f.deliver({ id: subscribe.id, event: 'events.notification', data: { title: 'late' } });
    expect(seen).toHaveLength(1);
    expect(() => (armory.events.onNotification as unknown as (x: unknown) => unknown)('not a function')).toThrow(TypeError);
  });
});

describe('window.armory against the real bridge-host, with the IPC sender check', () => {
  let home = '';
  afterEach(() => {
    if (home) fs.rmSync(home, { recursive: true, force: true });
    home = '';
  });

  async function connect(origin: IpcSenderInfo) {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-preload-'));
    const manager = new Manager({ ARMORY_HOME: home });
    await manager.open();
    const bridge = createManagerBridge(manager, { bundleDir: path.resolve(import.meta.dirname, '../../../../..'), agentBin: '/nonexistent', localAgentPort: 7443 });
    const [renderer, main] = memoryPortPair({ a: origin });
    bridge.host.attach(main, (o) => checkIpcSender(o, { webContentsId: 3 }));
    const armory = createArmoryBridge({ send: (m) => renderer.send(m), onMessage: (l) => void renderer.onMessage((m) => l(m)) });
    return { armory, close: () => (bridge.close(), manager.close()) };
  }

  it('the app window reads and changes the notification settings; bad input is a coded error; the desktop test arrives as a notification', async () => {
    const c = await connect({ kind: 'electron-ipc', webContentsId: 3, frameUrl: 'app://armory/index.html', mainFrame: true });
    try {
      expect(await c.armory.settings.notifications({})).toMatchObject({ desktop: { enabled: true }, email: null, webhook: null, rules: { groupWindowMs: 2000 } });
      await expect(c.armory.settings.setNotifications({ webhook: { enabled: true, url: 'javascript:alert(1)' } })).rejects.toMatchObject({ code: 'RPC_E_BAD_PARAMS' });
      const changed: unknown[] = [];
      c.armory.settings.onChanged((v) => changed.push(v));
      const view = await c.armory.settings.setNotifications({ webhook: { enabled: true, url: 'http://127.0.0.1:9/hook' } });
      expect(view.webhook).toEqual({ enabled: true, url: 'http://127.0.0.1:9/hook' });
      await waitFor('settings.changed', () => changed.length === 1);
      const shown: { title: string }[] = [];
      c.armory.events.onNotification((n) => shown.push(n));
      await waitFor('the subscription', async () => (await c.armory.settings.app({})).available === false);
      expect(await c.armory.settings.test({ channel: 'desktop' })).toMatchObject({ channel: 'desktop', ok: true });
      await waitFor('the test notification', () => shown.length === 1);
      expect(shown[0]?.title).toBe('Armory test notification');
      expect(await c.armory.settings.setApp({ closeToTray: false })).toEqual({ closeToTray: false, startAtLogin: false, available: false });
    } finally {
      c.close();
    }
  });

  it('an iframe, or a page that is not the app, gets BRIDGE_E_UNTRUSTED and nothing else', async () => {
    const c = await connect({ kind: 'electron-ipc', webContentsId: 3, frameUrl: 'https://evil.example/', mainFrame: true });
    try {
      await expect(c.armory.settings.notifications({})).rejects.toMatchObject({ code: 'BRIDGE_E_UNTRUSTED', message: expect.stringMatching(/not the app/) });
    } finally {
      c.close();
    }
  });
});
