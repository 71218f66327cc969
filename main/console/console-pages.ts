/** The strict Content-Security-Policy of the console: our own script and style, a WebSocket to ourselves, nothing else. */
export function contentSecurityPolicy(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${ws}`,
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** What is served without a valid session token: a refusal that says how to get in, and nothing else. */
export const REFUSAL_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Armory console: session token needed</title></head>
<body><main><h1>Session token needed</h1>
<p>This Armory console serves nothing without its session token. Open the exact address that
<code>armory console</code> printed when it started (it ends with <code>?token=…</code>).</p></main></body></html>
`;
