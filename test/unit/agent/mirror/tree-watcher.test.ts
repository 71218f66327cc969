import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TreeWatcher } from '../../../../agent/mirror/tree-watcher.js';
import { waitFor } from '../../../helpers/wait.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A watcher on a fresh folder (holding `before` when it starts), recording its events as "kind rel". */
async function watched(before: (root: string) => void = () => undefined, settled: (rel: string) => boolean = () => false) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-tw-'));
  before(root);
  const events: string[] = [];
  const sizes = new Map<string, number>();
  const w = new TreeWatcher(root, (rel) => rel === 'ignored' || rel.startsWith('ignored/'), settled);
  w.on('add', (rel, st) => {
    events.push(`add ${rel}`);
    sizes.set(rel, st.size);
  });
  w.on('change', (rel, st) => {
    events.push(`change ${rel}`);
    sizes.set(rel, st.size);
  });
  w.on('unlink', (rel) => events.push(`unlink ${rel}`));
  w.on('addDir', (rel) => events.push(`addDir ${rel}`));
  w.on('unlinkDir', (rel) => events.push(`unlinkDir ${rel}`));
  await w.start();
  cleanups.push(async () => {
    await w.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const p = (rel: string) => path.join(root, rel);
  const saw = (e: string) => waitFor(`the event "${e}" (seen: ${events.join(', ')})`, () => events.includes(e), { timeoutMs: 5000, everyMs: 5 });
  return { root, p, events, sizes, saw, w };
}

describe('TreeWatcher', () => {
  it('reports nothing of what was there at start, then new files, writes, removals and renames', async () => {
    const t = await watched((root) => fs.writeFileSync(path.join(root, 'old'), 'x'));
    fs.writeFileSync(t.p('a'), 'hello');
    await t.saw('add a');
    fs.appendFileSync(t.p('old'), 'more');
    await t.saw('change old');
    fs.renameSync(t.p('a'), t.p('b'));
    await t.saw('add b');
    // The old name goes first: a caller sees the inode again under the new name (a rename).
    expect(t.events.indexOf('unlink a')).toBeGreaterThanOrEqual(0);
    expect(t.events.indexOf('unlink a')).toBeLessThan(t.events.indexOf('add b'));
    fs.rmSync(t.p('old'));
    await t.saw('unlink old');
    expect(t.events.some((e) => e.startsWith('add old'))).toBe(false);
  });

  it('watches new folders (what they held before the watch too) and reports a removed folder with everything below it', async () => {
    const t = await watched();
    fs.mkdirSync(t.p('d/e/f'), { recursive: true });
    fs.writeFileSync(t.p('d/e/f/x'), '1');
    await t.saw('add d/e/f/x');
    expect(t.events).toEqual(expect.arrayContaining(['addDir d', 'addDir d/e', 'addDir d/e/f']));
    fs.writeFileSync(t.p('d/e/y'), '2');
    await t.saw('add d/e/y');
    fs.rmSync(t.p('d'), { recursive: true });
    await t.saw('unlinkDir d');
    expect(t.events).toEqual(expect.arrayContaining(['unlink d/e/f/x', 'unlink d/e/y', 'unlinkDir d/e/f', 'unlinkDir d/e']));
  });

  it('never watches nor reports an ignored path', async () => {
    const t = await watched();
    fs.mkdirSync(t.p('ignored/sub'), { recursive: true });
    fs.writeFileSync(t.p('ignored/sub/x'), '1');
    fs.writeFileSync(t.p('seen'), '1');
    await t.saw('add seen');
    expect(t.events.filter((e) => e.includes('ignored'))).toEqual([]);
  });

  it('a file written without pause is followed to its last write (its folder is compared after each pause of its watch)', async () => {
    const t = await watched((root) => fs.writeFileSync(path.join(root, 'aof'), ''));
    const fd = fs.openSync(t.p('aof'), 'a');
    for (let i = 0; i < 2000; i += 1) fs.writeSync(fd, `record ${i}\n`);
    fs.closeSync(fd);
    const size = fs.statSync(t.p('aof')).size;
    await waitFor('the last size reported', () => t.sizes.get('aof') === size, { timeoutMs: 5000, everyMs: 5 });
    // Far fewer reports than writes.
    expect(t.events.filter((e) => e === 'change aof').length).toBeLessThan(500);
  });

  it('drops the writes of a file its caller says is settled, and reports it again once it is not', async () => {
    let settled = true;
    const t = await watched((root) => fs.writeFileSync(path.join(root, 'f'), ''), () => settled);
    fs.appendFileSync(t.p('f'), 'a');
    fs.writeFileSync(t.p('other'), 'b');
    await t.saw('add other');
    expect(t.events).not.toContain('change f');
    settled = false;
    fs.appendFileSync(t.p('f'), 'c');
    await t.saw('change f');
    expect(t.sizes.get('f')).toBe(2);
  });
});
