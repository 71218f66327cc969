import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { openConsole, type ConsoleSession } from './console-session.js';

// The Configuration screen asks for the configuration in force when it opens. On a loaded machine
// that answer can come after the user has started writing: it must not wipe what they wrote.
// The bridge's answers to `config.get` are held back 1.5 s here (the page's WebSocket is routed).
const HELD_MS = 1500;
const CONFIG = 'services:\n  web:\n    command: /bin/sleep\n    args: ["1000"]\n';

let s: ConsoleSession;
let asked = 0;

beforeAll(async () => {
  s = await openConsole();
  const held = new Set<number>();
  const idOf = (m: string | Buffer): { id?: unknown; method?: unknown } => {
    try {
      return JSON.parse(String(m)) as { id?: unknown; method?: unknown };
    } catch {
      return {};
    }
  };
  await s.page.routeWebSocket(/.*/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const r = idOf(m);
      if (r.method === 'config.get' && typeof r.id === 'number') {
        held.add(r.id);
        asked += 1;
      }
      server.send(m);
    });
    server.onMessage((m) => {
      const { id } = idOf(m);
      if (typeof id === 'number' && held.delete(id)) setTimeout(() => ws.send(m), HELD_MS);
      else ws.send(m);
    });
  });
  await s.app.open();
}, 60_000);

afterAll(async () => {
  await s?.browser.close();
  await s?.host.dispose();
}, 60_000);

describe('the Configuration screen', () => {
  it('keeps what the user wrote before the configuration in force arrived; Reload replaces it', async () => {
    await s.app.go('config');
    await s.app.by('config-yaml').fill(CONFIG);
    await waitFor('the configuration in force to arrive', async () => /in force|No configuration applied/.test((await s.app.by('config-version').textContent()) ?? ''), { timeoutMs: 10_000 });
    expect(asked).toBeGreaterThan(0);
    expect(await s.app.by('config-yaml').inputValue()).toBe(CONFIG);
    expect(await s.app.by('config-version').textContent()).toMatch(/Your edits are kept/);
    await s.app.by('config-preview-button').click();
    await s.app.by('config-preview-ok').waitFor();
    expect(await s.app.by('config-apply').isEnabled()).toBe(true);
    // Reload: the configuration in force (none yet) replaces the edits.
    await s.app.by('config-reload').click();
    await waitFor('the edits replaced', async () => (await s.app.by('config-yaml').inputValue()) === '', { timeoutMs: 10_000 });
    expect(await s.app.by('config-version').textContent()).not.toMatch(/Your edits are kept/);
  });

  it('raised no page errors and no CSP violations', () => {
    expect(s.errors).toEqual([]);
  });
});
