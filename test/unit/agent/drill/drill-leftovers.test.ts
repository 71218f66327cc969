import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DrillLeftovers, drillLeftoversFile } from '../../../../agent/drill/drill-leftovers.js';
import { addressesToRestore, checkInterfaceName, linkCommands, MOVED_LOCAL_PREF, partitionRules, PARTITION_RULE_PREF, restorerScript, routesToRestore, type IpArgs } from '../../../../agent/drill/net-faults.js';
import type { CommandResult } from '../../../../agent/os/run-command.js';
import { groupHasLiveMember, groupHasStoppedMember, liveGroupMembers, readProcStat } from '../../../../common/node/proc-stat.js';
import { waitFor } from '../../../helpers/wait.js';

let dir = '';
let child: ChildProcess | null = null;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = '';
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  child = null;
});

const tmp = () => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-drill-undo-')));

/** A stand-in for `ip`: answers each command by the first rule that matches, records what ran. */
function fakeIp(answer: (a: string) => Partial<CommandResult> | undefined): { ran: string[]; run: (a: IpArgs) => Promise<CommandResult> } {
  const ran: string[] = [];
  return {
    ran,
    run: async (a) => {
      const line = a.join(' ');
      ran.push(line);
      return { code: 0, stdout: '', stderr: '', ...answer(line) };
    },
  };
}
const ruleZeroPresent = (a: string) => (a === 'rule show pref 0' ? { stdout: '0:\tfrom all lookup local\n' } : undefined);

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
    // Undone, the local lookup is at 0 again before its moved copy goes, and that one goes only if rule 0 is there.
    expect(r.del.slice(0, 2)).toEqual([{ ip: ['rule', 'add', 'pref', '0', 'lookup', 'local'] }, { ip: ['rule', 'del', 'pref', MOVED_LOCAL_PREF, 'lookup', 'local'], guard: 'local-at-0' }]);
    expect(r.del.slice(2).map((s) => s.ip)).toEqual(r.add.slice(2).map((a) => a.map((w) => (w === 'add' ? 'del' : w))));
    expect(linkCommands('eth0')).toEqual({ down: ['link', 'set', 'dev', 'eth0', 'down'], up: ['link', 'set', 'dev', 'eth0', 'up'] });
  });

  it('takes only interface names that cannot be read as options', () => {
    for (const ok of ['eth0', 'br-lan.10', 'veth@if3', 'a:b_c']) expect(checkInterfaceName(ok)).toBe(ok);
    for (const bad of ['-x', '--help', '', 'a b', 'eth0;reboot', 'x'.repeat(16), 'é']) expect(() => checkInterfaceName(bad)).toThrow(expect.objectContaining({ code: 'DRILL_E_INJECT' }));
    expect(() => linkCommands('-all')).toThrow(expect.objectContaining({ code: 'DRILL_E_INJECT' }));
  });

  it('restores the routes a link-down flushes, not the kernel\'s own', () => {
    const v4 = [
      'default via 198.18.9.1 proto static metric 100 linkdown ',
      '198.18.9.0/24 proto kernel scope link src 198.18.9.2 ',
      '10.20.0.0/16 via 198.18.9.254 table 7 onlink ',
      'local 198.18.9.2 table local proto kernel scope host src 198.18.9.2 ',
      'broadcast 198.18.9.255 table local proto kernel scope link src 198.18.9.2 ',
      'default proto static metric 50 \tnexthop via 198.18.9.1 weight 1 \tnexthop via 198.18.9.3 weight 1 ',
      '',
    ].join('\n');
    const v6 = [
      'fd00::/64 proto kernel metric 256 pref medium',
      'default via fd00::1 proto ra metric 1024 expires 1790sec pref medium',
      'multicast ff00::/8 table local proto kernel metric 256 pref medium',
      'anycast fd00:: table local proto kernel metric 0 pref medium',
    ].join('\n');
    expect(routesToRestore('eth0', v4, v6)).toEqual([
      ['route', 'replace', 'default', 'via', '198.18.9.1', 'proto', 'static', 'metric', '100', 'dev', 'eth0'],
      ['route', 'replace', '10.20.0.0/16', 'via', '198.18.9.254', 'table', '7', 'onlink', 'dev', 'eth0'],
      ['-6', 'route', 'replace', 'default', 'via', 'fd00::1', 'proto', 'ra', 'metric', '1024', 'pref', 'medium', 'dev', 'eth0'],
    ]);
  });

  it('restores the static IPv6 addresses a link-down removes, with their flags, and nothing the kernel makes itself', () => {
    // `ip -o -6 addr show dev eth0 permanent scope global`, as iproute2 prints it.
    const v6 = [
      '3: eth0    inet6 2002:c612:2::1/64 scope global tentative noprefixroute \\       valid_lft forever preferred_lft forever',
      '3: eth0    inet6 2002:c612:1::1/64 scope global nodad \\       valid_lft forever preferred_lft forever',
      '3: eth0    inet6 2002:c612:3::1 peer 2002:c612:3::2/128 scope global \\       valid_lft forever preferred_lft forever',
      '3: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever',
      'garbage',
      '',
    ].join('\n');
    expect(addressesToRestore('eth0', v6)).toEqual([
      ['-6', 'addr', 'replace', '2002:c612:2::1/64', 'noprefixroute', 'dev', 'eth0'],
      ['-6', 'addr', 'replace', '2002:c612:1::1/64', 'nodad', 'dev', 'eth0'],
      ['-6', 'addr', 'replace', '2002:c612:3::1', 'peer', '2002:c612:3::2/128', 'dev', 'eth0'],
    ]);
  });

  it('keeps the undo durably until it has run; "nothing to undo" counts as done; a new agent finds what an earlier one left', async () => {
    const file = drillLeftoversFile(tmp());
    const undo = partitionRules(['198.18.254.254']).del.slice(2);
    const ip = fakeIp((a) => (a.startsWith('rule del') ? { code: 2, stderr: 'RTNETLINK answers: No such file or directory\n' } : undefined));
    const first = new DrillLeftovers(file, { run: ip.run });
    await Promise.all([first.recordNet('d1', undo), first.recordNet('d2', undo.slice(0, 1))]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toHaveLength(2);

    const next = new DrillLeftovers(file, { run: ip.run });
    expect((await next.entries()).map((e) => e.drill)).toEqual(['d1', 'd2']);
    const r = await next.undo('d1');
    expect(r.done).toBe(true);
    expect(r.said[0]).toMatch(/^ip rule del to 198\.18\.254\.254\/32 prohibit pref 90 \(nothing to undo/);
    expect((await new DrillLeftovers(file).entries()).map((e) => e.drill)).toEqual(['d2']);
    expect((await next.undoAll()).said).toHaveLength(1);
    expect(await new DrillLeftovers(file).entries()).toEqual([]);
  });

  it('never removes the moved local lookup unless rule 0 is back, and keeps what failed to retry', async () => {
    const file = drillLeftoversFile(tmp());
    const undo = partitionRules(['198.18.254.254']).del;
    // Rule 0 cannot be added back (and is not there): the moved lookup at 100 stays, so the node still has one.
    const failing = fakeIp((a) => (a === 'rule add pref 0 lookup local' ? { code: 2, stderr: 'RTNETLINK answers: Operation not permitted\n' } : undefined));
    const l = new DrillLeftovers(file, { run: failing.run });
    await l.recordNet('d1', undo);
    const r = await l.undo('d1');
    expect(r.done).toBe(false);
    expect(failing.ran).not.toContain(`rule del pref ${MOVED_LOCAL_PREF} lookup local`);
    expect(failing.ran).toContain('rule del to 198.18.254.254/32 prohibit pref 90');
    const kept = await new DrillLeftovers(file).entries();
    expect(kept).toEqual([{ kind: 'net', drill: 'd1', undo: undo.slice(0, 2) }]);

    // Another failure than "nothing to undo" keeps the step too.
    const eperm = fakeIp((a) => (a === 'link set dev eth9 up' ? { code: 1, stderr: 'RTNETLINK answers: Operation not permitted\n' } : undefined));
    const m = new DrillLeftovers(file, { run: eperm.run });
    await m.recordNet('d2', [{ ip: ['link', 'set', 'dev', 'eth9', 'up'] }]);
    expect((await m.undo('d2')).done).toBe(false);
    expect((await m.entries()).map((e) => e.drill)).toEqual(['d1', 'd2']);

    // Once rule 0 is there, the retry removes the moved lookup and forgets the drill.
    const ok = fakeIp(ruleZeroPresent);
    const n = new DrillLeftovers(file, { run: ok.run });
    expect((await n.undo('d1')).done).toBe(true);
    expect(ok.ran).toEqual(['rule add pref 0 lookup local', 'rule show pref 0', `rule del pref ${MOVED_LOCAL_PREF} lookup local`]);
    expect((await new DrillLeftovers(file).entries()).map((e) => e.drill)).toEqual(['d2']);
  });

  it('the detached restorer removes the moved local lookup only when rule 0 is there', () => {
    tmp();
    const log = path.join(dir, 'ran');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    // A fake `ip`: logs its arguments; `rule show pref 0` prints what the file rule0 holds; `rule add` fails.
    fs.writeFileSync(path.join(bin, 'ip'), `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in "rule show pref 0") cat ${dir}/rule0 2>/dev/null;; "rule add"*) exit 2;; esac\nexit 0\n`, { mode: 0o755 });
    const script = restorerScript(0, partitionRules(['198.18.254.254']).del);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    execFileSync('/bin/sh', ['-c', script], { env });
    expect(fs.readFileSync(log, 'utf8')).not.toMatch(/rule del pref 100/);
    expect(fs.readFileSync(log, 'utf8')).toMatch(/rule del to 198\.18\.254\.254\/32 prohibit pref 90/);
    fs.writeFileSync(path.join(dir, 'rule0'), '0:\tfrom all lookup local\n');
    fs.rmSync(log);
    execFileSync('/bin/sh', ['-c', script], { env });
    expect(fs.readFileSync(log, 'utf8')).toMatch(/rule show pref 0\nrule del pref 100 lookup local\n/);
  });

  it('recovers a damaged record from its last good copy, and says so', async () => {
    const file = drillLeftoversFile(tmp());
    const l = new DrillLeftovers(file, { run: fakeIp(() => undefined).run });
    await l.recordNet('d1', [{ ip: ['link', 'set', 'dev', 'eth9', 'up'] }]);
    await l.recordNet('d2', [{ ip: ['link', 'set', 'dev', 'eth8', 'up'] }]);
    fs.writeFileSync(file, '[{"drill": 5}');
    const said: string[] = [];
    const next = new DrillLeftovers(file, { onRecovered: (r) => said.push(r) });
    expect((await next.entries()).map((e) => e.drill)).toEqual(['d1']);
    expect(said.join()).toMatch(/not valid JSON.*last good copy/);

    // Nothing good left: said loudly, the damaged file kept aside, and new records work.
    fs.writeFileSync(file, 'garbage');
    fs.writeFileSync(`${file}.bak`, 'garbage');
    const said2: string[] = [];
    const third = new DrillLeftovers(file, { onRecovered: (r) => said2.push(r), run: fakeIp(() => undefined).run });
    expect(await third.entries()).toEqual([]);
    expect(said2.join()).toMatch(/STORE_E_CORRUPT|refusing to start empty/);
    expect(fs.readdirSync(path.dirname(file)).some((f) => f.includes('.corrupt-'))).toBe(true);
    await third.recordNet('d3', []);
    expect((await new DrillLeftovers(file).entries()).map((e) => e.drill)).toEqual(['d3']);
  });

  it('resumes a stopped group it recorded, checking its leader\'s start time first', async () => {
    const file = drillLeftoversFile(tmp());
    child = spawn('/bin/sh', ['-c', 'sleep 30'], { detached: true, stdio: 'ignore' });
    const pgid = child.pid as number;
    const start = (readProcStat(pgid) as { startTicks: number }).startTicks;
    process.kill(-pgid, 'SIGSTOP');
    await waitFor('the group to be stopped', () => groupHasStoppedMember(pgid));
    const l = new DrillLeftovers(file);
    // A recycled pgid (another start time) is never resumed.
    await l.recordHang('other', pgid, start + 1);
    await l.recordHang('d1', pgid, start);
    // A new agent (after the one that stopped it died) finds both.
    const next = new DrillLeftovers(file);
    const other = await next.undo('other');
    expect(other.said.join()).toMatch(/leader is gone/);
    expect(groupHasStoppedMember(pgid)).toBe(true);
    expect((await next.undo('d1')).said).toEqual([`SIGCONT to the process group ${pgid}`]);
    await waitFor('the group to run again', () => !groupHasStoppedMember(pgid) && groupHasLiveMember(pgid));
    expect(await new DrillLeftovers(file).entries()).toEqual([]);
  });

  it('resumes the group when a member is stopped and its leader is not (a shell waiting on a vfork child shows D)', async () => {
    const file = drillLeftoversFile(tmp());
    child = spawn('/bin/sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    const pgid = child.pid as number;
    const start = (readProcStat(pgid) as { startTicks: number }).startTicks;
    await waitFor('the sleep to start', () => liveGroupMembers(pgid).some((m) => m.pid !== pgid));
    const sleeper = liveGroupMembers(pgid).find((m) => m.pid !== pgid)?.pid as number;
    process.kill(sleeper, 'SIGSTOP');
    await waitFor('the sleep to be stopped', () => readProcStat(sleeper)?.state === 'T');
    expect(readProcStat(pgid)?.state).not.toBe('T');
    const l = new DrillLeftovers(file);
    await l.recordHang('d1', pgid, start);
    expect((await new DrillLeftovers(file).undo('d1')).said).toEqual([`SIGCONT to the process group ${pgid}`]);
    await waitFor('the sleep to run again', () => readProcStat(sleeper)?.state === 'S');
  });
});
