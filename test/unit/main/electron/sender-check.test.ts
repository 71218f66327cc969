import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL, isAppUrl, resolveAppFile } from '../../../../main/electron/app-origin.js';
import { CONTENT_SECURITY_POLICY, navigationAllowed, requestAllowed } from '../../../../main/electron/content-policy.js';
import { checkIpcSender, type IpcSenderInfo } from '../../../../main/electron/sender-check.js';

const ok: IpcSenderInfo = { kind: 'electron-ipc', webContentsId: 7, frameUrl: `${APP_INDEX_URL}#/services`, mainFrame: true };
const check = (o: unknown) => checkIpcSender(o, { webContentsId: 7 });

describe('who may call the bridge over IPC', () => {
  it("the app window's top frame showing the app", () => {
    expect(check(ok)).toBeNull();
  });

  it.each([
    ['another web page', { ...ok, webContentsId: 8 }, /another web page/],
    ['an iframe', { ...ok, mainFrame: false }, /sub-frame/],
    ['a frame that is gone', { ...ok, frameUrl: null }, /gone/],
    ['a remote page', { ...ok, frameUrl: 'https://evil.example/app' }, /evil\.example.*not the app/],
    ['a file page', { ...ok, frameUrl: 'file:///tmp/index.html' }, /not the app/],
    ['another app:// host', { ...ok, frameUrl: 'app://other/index.html' }, /not the app/],
    ['credentials in the URL', { ...ok, frameUrl: 'app://user:pw@armory/index.html' }, /not the app/],
    ['nothing', undefined, /not come through/],
    ['a console session', { kind: 'console-session', token: 'x' }, /not come through/],
  ])('refuses %s', (_what, origin, why) => {
    expect(check(origin)).toMatch(why);
  });
});

describe('what the window may load and where it may go', () => {
  it('serves files of the renderer folder only', () => {
    const root = '/opt/armory/dist/renderer';
    expect(resolveAppFile(root, 'app://armory/app.js')).toBe(path.join(root, 'app.js'));
    expect(resolveAppFile(root, 'app://armory/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppFile(root, 'app://armory/views/a.css?x=1#y')).toBe(path.join(root, 'views/a.css'));
    // Dot segments are resolved by the URL parser or refused: never a file outside the folder.
    for (const escape of ['app://armory/../secret', 'app://armory/%2e%2e/secret', 'app://armory/..%2f..%2fsecret', 'app://armory/a/%2e%2e/%2e%2e/%2e%2e/etc/passwd']) {
      const file = resolveAppFile(root, escape);
      if (file !== null) expect(file.startsWith(`${root}/`), `${escape} → ${file}`).toBe(true);
    }
    for (const bad of ['app://armory/a%00.js', 'app://armory/a%5c..%5cb', 'app://other/app.js', 'https://armory/app.js', 'app://armory/views/', 'app://armory/%E0%A4%A']) {
      expect(resolveAppFile(root, bad), bad).toBeNull();
    }
  });

  it('no request leaves the app origin, no navigation leaves the app page', () => {
    expect(requestAllowed('app://armory/app.js')).toBe(true);
    expect(requestAllowed('https://cdn.example/x.js')).toBe(false);
    expect(requestAllowed('http://127.0.0.1:8080/')).toBe(false);
    expect(requestAllowed('file:///etc/passwd')).toBe(false);
    expect(navigationAllowed(APP_INDEX_URL)).toBe(true);
    expect(navigationAllowed('app://armory/app.js')).toBe(false);
    expect(navigationAllowed('https://example.com/')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('the CSP allows nothing but the app itself', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("connect-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-|https?:|\*/);
  });
});
