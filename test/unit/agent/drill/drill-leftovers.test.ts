import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DrillLeftovers, drillLeftoversFile } from '../../../../agent/drill/drill-leftovers.js';
import { linkCommands, MOVED_LOCAL_PREF, partitionRules, PARTITION_RULE_PREF } from '../../../../agent/drill/net-faults.js';

let dir = '';
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('the network faults of a drill and their undo', () => {
  it('cuts the peers off both ways: the local lookup moves behind the prohibit rules, and comes back first', () => {
    const r = partitionRules(['198.18.9.11', '198.18.9.12']);
    expect(r.add).toEqual([
      ['rule', 'add', 'pref', MOVED_LOCAL_PREF, 'lookup', 'local'],
      ['rule', 'del', 'pref', '0', 'lookup', 'local'],
      ['rule', 'add', 'to', '198.18.9.11/32', 'prohibit', 'pref', PARTITION_RULE_PREF],
      ['rule', 'add', 'from', '198.18.9.11/32', 'prohibit', 'pref', PARTITION_RULE_PREF],
      ['rule', 'add', 'to', '198.18.9.12/32', 'prohibit', 'pref', PARTITION_RULE_PREF],
      ['rule', 'add', 'from', '198.18.9.12/32', 'prohibit', 'pref', PARTITION_RULE_PREF],
    ]);
    expect(Number(PARTITION_RULE_PREF)).toBeLessThan(Number(MOVED_LOCAL_PREF));
    // Undone, the local lookup is at 0 again before its moved copy goes: there is always one.
    expect(r.del.slice(0, 2)).toEqual([
      ['rule', 'add', 'pref', '0', 'lookup', 'local'],
      ['rule', 'del', 'pref', MOVED_LOCAL_PREF, 'lookup', 'local'],
    ]);
    expect(r.del.slice(2)).toEqual(r.add.slice(2).map((a) => a.map((w) => (w === 'add' ? 'del' : w))));
    expect(linkCommands('eth0')).toEqual({ down: ['link', 'set', 'eth0', 'down'], up: ['link', 'set', 'eth0', 'up'] });
  });

  it('keeps the undo durably until it has run; a new agent finds what an earlier one left', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-drill-undo-'));
    const file = drillLeftoversFile(dir);
    // Deleting a rule that is not there: `ip` fails, which counts as nothing left to undo.
    const undo = partitionRules(['198.18.254.254']).del.slice(2);
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
