import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HeldServices, heldServicesFile, readHeldServices } from '../../../../agent/peers/held-services.js';

let dir = '';
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('HeldServices (the record of group services the keeper stops should the agent die)', () => {
  it('records each group\'s services with how they stop, replaces a group\'s entry, and keeps only the groups named', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-held-services-'));
    const file = heldServicesFile(dir);
    expect(file).toBe(path.join(dir, 'peers', 'held-services.json'));
    const held = new HeldServices(file);
    await held.hold('web', [{ service: 'nginx', signal: 'SIGQUIT', graceMs: 2000 }]);
    await held.hold('db', [{ service: 'redis', signal: 'SIGTERM', graceMs: 1000 }]);
    await held.hold('db', [{ service: 'redis', signal: 'SIGTERM', graceMs: 500 }]);
    expect(readHeldServices(file)).toEqual([
      { service: 'redis', group: 'db', signal: 'SIGTERM', graceMs: 500 },
      { service: 'nginx', group: 'web', signal: 'SIGQUIT', graceMs: 2000 },
    ]);
    // A new instance (a restarted agent) starts from what is on disk.
    const again = new HeldServices(file);
    await again.keep(new Set(['web']));
    expect(readHeldServices(file)).toEqual([{ service: 'nginx', group: 'web', signal: 'SIGQUIT', graceMs: 2000 }]);
    await again.keep(new Set());
    expect(readHeldServices(file)).toEqual([]);
  });

  it('an unchanged record is not written again', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-held-services-'));
    const file = heldServicesFile(dir);
    const held = new HeldServices(file);
    await held.hold('db', [{ service: 'redis', signal: 'SIGTERM', graceMs: 1000 }]);
    const before = fs.statSync(file).ino;
    await held.hold('db', [{ service: 'redis', signal: 'SIGTERM', graceMs: 1000 }]);
    expect(fs.statSync(file).ino).toBe(before);
  });

  it('reads a missing, corrupt or out-of-schema record as empty', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-held-services-'));
    const file = path.join(dir, 'held.json');
    expect(readHeldServices(file)).toEqual([]);
    fs.writeFileSync(file, '[{"service": "redis", "gro');
    expect(readHeldServices(file)).toEqual([]);
    fs.writeFileSync(file, JSON.stringify([{ service: 'redis', group: 'g', signal: 'SIGSEGV', graceMs: 1 }]));
    expect(readHeldServices(file)).toEqual([]);
  });
});
