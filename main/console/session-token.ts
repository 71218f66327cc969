import { randomBytes, timingSafeEqual } from 'node:crypto';

/** The console's session secret: random, shown once in the URL, compared in constant time. */
export class SessionToken {
  readonly value = randomBytes(24).toString('base64url');

  matches(candidate: string | null | undefined): boolean {
    if (typeof candidate !== 'string' || candidate.length !== this.value.length) return false;
    return timingSafeEqual(Buffer.from(candidate), Buffer.from(this.value));
  }
}

/** The token a request carries: `?token=` in its URL, else the session cookie set when the page was served. */
export function tokenOf(url: URL, cookieHeader: string | undefined): string | null {
  const q = url.searchParams.get('token');
  if (q !== null) return q;
  for (const part of (cookieHeader ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return v.join('=');
  }
  return null;
}

export const SESSION_COOKIE = 'armory_session';
