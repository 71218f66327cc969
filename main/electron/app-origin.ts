import path from 'node:path';

/**
 * The desktop app's own origin: the GUI is served from `app://armory/` by the main process (a
 * privileged standard scheme), never from a file:// path or the network.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'armory';
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** True for a URL of the app's origin (`app://armory/…`); anything unparsable is not. */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/**
 * The file an `app://armory/…` request names under `root`, or null when it names none there: other
 * hosts, `..` escapes (also encoded), NUL bytes and folders are refused.
 */
export function resolveAppFile(root: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const rel = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
  const base = path.resolve(root);
  const file = path.resolve(base, rel);
  if (file !== base && !file.startsWith(`${base}${path.sep}`)) return null;
  if (file === base || rel.endsWith('/')) return null;
  return file;
}
