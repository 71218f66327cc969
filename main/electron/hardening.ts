import { app, protocol, session, type Session, type WebContents } from 'electron';
import { CONTENT_SECURITY_POLICY, navigationAllowed, PERMISSIONS_GRANTED, requestAllowed, SCHEME_PRIVILEGES } from './content-policy.js';

/** Before `ready`: the app:// scheme is a secure standard origin, like https. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: SCHEME_PRIVILEGES.scheme, privileges: { ...SCHEME_PRIVILEGES.privileges } }]);
}

/**
 * Every web page the app ever creates: no navigation away from the app, no new windows, no
 * <webview>, and a log line for each refusal.
 */
export function hardenWebContents(log: (line: string) => void): void {
  app.on('web-contents-created', (_e, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!navigationAllowed(url)) {
        event.preventDefault();
        log(`navigation to ${url.slice(0, 200)} blocked`);
      }
    });
    contents.on('will-redirect', (event, url) => {
      if (!navigationAllowed(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      log(`window.open(${url.slice(0, 200)}) blocked`);
      return { action: 'deny' };
    });
  });
}

/** The session of the window: strict CSP on every answer, no request leaves the app origin, no permission granted. */
export function hardenSession(ses: Session = session.defaultSession): void {
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !requestAllowed(details.url) }));
  ses.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY], 'X-Content-Type-Options': ['nosniff'] } }),
  );
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(PERMISSIONS_GRANTED.includes(permission)));
  ses.setPermissionCheckHandler((_wc, permission) => PERMISSIONS_GRANTED.includes(permission));
}
