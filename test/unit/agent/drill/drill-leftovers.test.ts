import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DrillLeftovers, drillLeftoversFile } from '../../../../agent/drill/drill-leftovers.js';
import { linkCommands, partitionRules, PARTITION_RULE_PREF } from '../../../../agent/drill/net-faults.js';

let dir = '';
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('the network faults of a drill and their undo', () => {
  it('cuts a peer off both ways with prohibit rules, and removes exactly those', () => {
    const r = partitionRules('198.18.9.11');
    expect(r.add).toEqual([
      ['rule', 'add', 'to', '198.18.9.11/32', 'prohibit', 'pref', PARTITION_RULE_PREF],
      ['rule', 'add', 'from', '198.18.9.11/32', 'prohibit', 'pref', PARTITION_RULE_PREF],
    ]);
    expect(r.del).toEqual(r.add.map((a) => a.map((w) => (w === 'add' ? 'del' : w))));
    expect(linkCommands('eth0')).toEqual({ down: ['link', 'set', 'eth0', 'down'], up: ['link', 'set', 'eth0', 'up'] });
  });

  it('keeps the undo durably until it has run; a new agent finds what an earlier one left', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-drill-undo-'));
    const file = drillLeftoversFile(dir);
    // Deleting a rule that is not there: `ip` fails, which counts as nothing left to undo.
    const undo = partitionRules('198.18.254.254').del;
    const first = new DrillLeftovers(file);
    await first.record('d1', undo);
    await first.record('d2', undo.slice(0, 1));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toHaveLength(2);

    const next = new DrillLeftovers(file);
    expect(next.entries.map((e) => e.drill)).toEqual(['d1', 'd2']);
    const said = await next.undo('d1');
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(/^ip rule del to 198\.18\.254\.254\/32 prohibit pref 90/);
    expect(new DrillLeftovers(file).entries.map((e) => e.drill)).toEqual(['d2']);
    expect(await next.undoAll()).toHaveLength(1);
    expect(new DrillLeftovers(file).entries).toEqual([]);
  });

  it('reads a damaged record as nothing to undo, and is not confused by it', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-drill-undo-'));
    const file = drillLeftoversFile(dir);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '[{"drill": 5}');
    const l = new DrillLeftovers(file);
    expect(l.entries).toEqual([]);
    expect(await l.undoAll()).toEqual([]);
  });
});
