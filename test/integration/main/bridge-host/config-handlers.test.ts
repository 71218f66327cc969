import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configHandlers } from '../../../../main/bridge-host/handlers/config-handlers.js';
import type { HostContext } from '../../../../main/bridge-host/host-context.js';
import { Manager } from '../../../../main/core/manager.js';

let home: string;
let manager: Manager;
let applied: unknown[];
let h: ReturnType<typeof configHandlers>;

beforeEach(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-cfg-'));
  manager = new Manager({ ARMORY_HOME: home });
  await manager.open();
  applied = [];
  h = configHandlers({ manager, emit: (_d: string, _e: string, data: unknown) => applied.push(data) } as unknown as HostContext);
});

afterEach(() => {
  manager.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('the configuration through the bridge', () => {
  it('describes the schema with help text and defaults for the forms', async () => {
    const { document } = await h.schema();
    const service = (document as { properties: { services: { additionalProperties: { properties: Record<string, { description?: string; default?: unknown }> } } } }).properties.services.additionalProperties;
    expect(service.properties.command?.description).toMatch(/program to run/);
    expect(service.properties.cwd?.default).toBe('/');
  });

  it('checks a service with the real validator, with paths relative to the service', async () => {
    const r = await h.validateService({ name: 'Web', service: { command: '', stop: { grace: 'soon' } } });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.path).sort()).toEqual(['command', 'name', 'stop.grace']);
    expect(await h.validateService({ name: 'web', service: { command: '/bin/true' } })).toEqual({ ok: true, problems: [] });
  });

  it('saves a valid service as a new signed version, keeps what else is written, and refuses an invalid one untouched', async () => {
    await h.apply({ yaml: '# my cluster\nservices:\n  db:\n    command: /bin/sleep\n    args: ["1000"]\n' });
    const r = await h.saveService({ name: 'web', service: { command: '/bin/sleep', args: ['5'], restart: { minInterval: '2s' } } });
    expect(r.version).toBe(2);
    expect(r.diff.added).toEqual(['web']);
    expect(applied).toEqual([{ version: 1 }, { version: 2 }]);
    const current = await h.get();
    expect(current.yaml).toMatch(/^# my cluster/);
    expect(current.raw).toMatchObject({ services: { web: { restart: { minInterval: '2s' } } } });
    expect((current.document as { services: { web: { restart: { minInterval: number } } } }).services.web.restart.minInterval).toBe(2000);

    const refused = await h.saveService({ name: 'web', service: { command: '/bin/sleep', restart: { policy: 'sometimes' } } }).then(() => null, (e: { code: string; context: { problems: { path: string }[] } }) => e);
    expect(refused?.code).toBe('CONFIG_E_INVALID');
    expect(refused?.context.problems.map((p) => p.path)).toEqual(['restart.policy']);
    expect((await h.get()).version).toBe(2);
  });

  it('previews an import with its diff and problems, applying nothing', async () => {
    await h.apply({ yaml: 'services:\n  db:\n    command: /bin/true\n' });
    const p = await h.preview({ yaml: 'services:\n  db:\n    command: /bin/false\n' });
    expect(p).toMatchObject({ ok: true, diff: { changed: ['db'] }, lines: [' services:', '   db:', '-    command: /bin/true', '+    command: /bin/false'] });
    const bad = await h.preview({ yaml: 'services:\n  db:\n    comand: /bin/true\n' });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toContainEqual(expect.objectContaining({ line: 3, message: 'unknown field: comand' }));
    expect((await h.get()).version).toBe(1);
  });

  it('renames and removes services', async () => {
    await h.saveService({ name: 'a', service: { command: '/bin/true' } });
    await h.saveService({ name: 'b', service: { command: '/bin/true' }, previous: 'a' });
    expect(Object.keys((await h.get()).raw.services as object)).toEqual(['b']);
    await h.removeService({ name: 'b' });
    expect((await h.get()).raw.services).toEqual({});
  });
});
