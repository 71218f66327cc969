import { APP_SCHEME, isAppUrl } from './app-origin.js';

/**
 * The desktop window's Content-Security-Policy: scripts, styles and images only from the app's own
 * origin, no network at all (the bridge is IPC), no frames, no plugins, no forms, no base changes.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Requests the window may make: its own origin and devtools; everything else (no remote content) is cancelled. */
export function requestAllowed(url: string): boolean {
  return isAppUrl(url) || url.startsWith('devtools://') || url.startsWith('data:');
}

/**
 * Navigation of the window: it never leaves the app. A link to the app's own page (a hash change
 * is no navigation) is the only one allowed; http(s) links are not followed (no remote content).
 */
export function navigationAllowed(url: string): boolean {
  return isAppUrl(url) && new URL(url).pathname === '/index.html';
}

/** Permissions a page may ask for (camera, geolocation, notifications…): none; notifications come from the main process. */
export const PERMISSIONS_GRANTED: readonly string[] = [];

export const SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: false, stream: false, bypassCSP: false },
} as const;
