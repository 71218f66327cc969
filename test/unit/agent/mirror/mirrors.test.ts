import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mayCall } from '../../../../agent/api/authorization.js';
import { Mirrors } from '../../../../agent/mirror/mirrors.js';
import { parseConfigOrThrow } from '../../../../common/config/load.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function standby(active: boolean, epoch: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-mirrors-'));
  dirs.push(dir);
  const folder = path.join(dir, 'data');
  const config = parseConfigOrThrow(`nodes:
  a: { address: 198.18.0.10 }
  b: { address: 198.18.0.11 }
  c: { address: 198.18.0.12 }
services:
  db:
    command: /bin/true
    placement: { nodes: [a, b] }
    mirror: { folders: [${JSON.stringify(folder)}] }
`);
  const m = new Mirrors({ node: 'b', roles: { epochOf: () => epoch, isActive: () => active }, config: () => config, links: null, event: () => undefined });
  return { m, folder };
}

const op = { kind: 'mkdir' as const, rel: 'x' };

describe('mirrored writes from peers', () => {
  it('a standby takes writes of the active node for a service both carry', async () => {
    const { m, folder } = standby(false, 2);
    await m.apply({ service: 'db', folder, epoch: 2, op }, { role: 'agent', name: 'a' });
    expect(fs.statSync(path.join(folder, 'x')).isDirectory()).toBe(true);
  });

  it('the active node refuses them: a standby never overwrites the active copy', async () => {
    const { m, folder } = standby(true, 2);
    await expect(m.apply({ service: 'db', folder, epoch: 2, op }, { role: 'agent', name: 'a' })).rejects.toMatchObject({ code: 'MIRROR_E_ACTIVE' });
  });

  it('writes of an older epoch, from a node that does not carry the service, or outside its folders are refused', async () => {
    const { m, folder } = standby(false, 3);
    await expect(m.apply({ service: 'db', folder, epoch: 2, op }, { role: 'agent', name: 'a' })).rejects.toMatchObject({ code: 'MIRROR_E_STALE_EPOCH' });
    await expect(m.apply({ service: 'db', folder, epoch: 3, op }, { role: 'agent', name: 'c' })).rejects.toMatchObject({ code: 'MIRROR_E_NOT_REPLICA' });
    await expect(m.apply({ service: 'db', folder: '/etc', epoch: 3, op }, { role: 'agent', name: 'a' })).rejects.toMatchObject({ code: 'MIRROR_E_PATH' });
    await expect(m.list({ service: 'nope', folder, limit: 10, checksums: false }, { role: 'agent', name: 'a' })).rejects.toMatchObject({ code: 'MIRROR_E_NOT_REPLICA' });
  });

  it('a barrier for a service this node runs no mirror of is refused with MIRROR_E_NOT_ACTIVE', async () => {
    const { m } = standby(false, 2);
    await m.refresh();
    await expect(m.barrier('db')).rejects.toMatchObject({ code: 'MIRROR_E_NOT_ACTIVE' });
    await expect(m.barrier('nope')).rejects.toMatchObject({ code: 'MIRROR_E_NOT_ACTIVE' });
  });

  it("on the active node, a service's barrier covers all its folders", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-mirrors-'));
    dirs.push(dir);
    const [one, two, to] = ['one', 'two', 'to'].map((n) => path.join(dir, n)) as [string, string, string];
    fs.mkdirSync(to);
    const config = parseConfigOrThrow(`services:
  db:
    command: /bin/true
    mirror: { folders: [${JSON.stringify(one)}, ${JSON.stringify(two)}], to: ${JSON.stringify(to)} }
`);
    const m = new Mirrors({ node: 'a', roles: { epochOf: () => 1, isActive: () => true }, config: () => config, links: null, event: () => undefined });
    await m.refresh();
    try {
      fs.writeFileSync(path.join(one, 'f'), '1');
      fs.writeFileSync(path.join(two, 'g'), '2');
      await m.barrier('db');
      expect(fs.readFileSync(path.join(to, one, 'f'), 'utf8')).toBe('1');
      expect(fs.readFileSync(path.join(to, two, 'g'), 'utf8')).toBe('2');
    } finally {
      await m.close();
    }
  });

  it('peers may replicate but not command', () => {
    const peer = { role: 'agent' as const, name: 'a' };
    for (const m of ['checkpoint.put', 'mirror.apply', 'mirror.list'] as const) expect(mayCall(peer, m)).toBe(true);
    for (const m of ['stop', 'start', 'config.push', 'shutdown'] as const) expect(mayCall(peer, m)).toBe(false);
  });
});
