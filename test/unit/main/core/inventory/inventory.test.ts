import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Inventory } from '../../../../../main/core/inventory/inventory.js';
import type { StoreRecovery } from '../../../../../common/node/durable-file.js';

describe('the manager inventory', () => {
  it('is durable, falls back to its last good copy when corrupt, and never starts empty over a bad file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-inv-'));
    const file = path.join(dir, 'inventory.json');
    const first = new Inventory(file, () => undefined);
    const doc = await first.load();
    expect(doc.cluster).toMatch(/^c[0-9a-f]{8}$/);
    await first.update((d) => (d.notifications.webhook = { enabled: true, url: 'https://example.invalid/hook' }));
    await first.update((d) => (d.notifications.desktop = { enabled: false }));

    fs.writeFileSync(file, '{"format":1,"clus');
    const recovered: StoreRecovery[] = [];
    const second = new Inventory(file, (r) => recovered.push(r));
    const back = await second.load();
    expect(recovered).toHaveLength(1);
    expect(back.cluster).toBe(doc.cluster);
    expect(back.notifications.webhook).toEqual({ enabled: true, url: 'https://example.invalid/hook' });

    fs.writeFileSync(file, 'garbage');
    fs.writeFileSync(`${file}.bak`, 'garbage too');
    await expect(new Inventory(file, () => undefined).load()).rejects.toMatchObject({ code: 'STORE_E_CORRUPT' });
    fs.rmSync(dir, { recursive: true });
  });

  it('reads an inventory written before notification channels and app settings, and upgrades it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-inv-'));
    const file = path.join(dir, 'inventory.json');
    const old = { format: 1, cluster: 'cabc12345', nodes: {}, configVersions: [], notifications: { desktop: false, email: 'ops@example.invalid', webhook: 'https://example.invalid/hook' } };
    fs.writeFileSync(file, JSON.stringify(old));
    const recovered: StoreRecovery[] = [];
    const doc = await new Inventory(file, (r) => recovered.push(r)).load();
    expect(recovered).toEqual([]);
    expect(doc.cluster).toBe('cabc12345');
    expect(doc.notifications.desktop).toEqual({ enabled: false });
    expect(doc.notifications.webhook).toEqual({ enabled: true, url: 'https://example.invalid/hook' });
    expect(doc.notifications.email).toMatchObject({ enabled: false, to: ['ops@example.invalid'] });
    expect(doc.notifications.rules.kinds).toEqual(['failure', 'recovery', 'escalation', 'give-up']);
    expect(doc.app).toEqual({ closeToTray: true, startAtLogin: false });
    fs.rmSync(dir, { recursive: true });
  });
});
