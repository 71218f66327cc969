import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DrillInjector } from '../../../../agent/drill/drill-injector.js';
import { DrillLeftovers, drillLeftoversFile } from '../../../../agent/drill/drill-leftovers.js';
import { parseConfigOrThrow } from '../../../../common/config/load.js';
import type { AgentEventInput } from '../../../../common/wire/service-status.js';
import { groupHasLiveMember, groupHasStoppedMember } from '../../../../common/node/proc-stat.js';
import { waitFor } from '../../../helpers/wait.js';

let dir = '';
const injectors: DrillInjector[] = [];
afterEach(async () => {
  for (const i of injectors.splice(0)) await i.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** This node is "a"; its group peer "b" is at `peer`. No fault here ever reaches `ip` (each is refused first). */
function injector(peer: string, iface = 'eth0', pgrp: number | null = process.pid, stateDir = ''): { inj: DrillInjector; events: AgentEventInput[] } {
  if (!stateDir) dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-drill-inj-'));
  const config = parseConfigOrThrow(`nodes:
  a: { address: 198.18.77.1 }
  b: { address: ${peer} }
services:
  web:
    command: /bin/true
    placement: { nodes: [a, b] }
    vip: { address: 198.18.77.100/24, interface: "${iface}" }
groups:
  g:
    members: [{ node: a, priority: 200 }, { node: b, priority: 100 }]
    services: [web]
`);
  const events: AgentEventInput[] = [];
  const inj = new DrillInjector({ node: 'a', stateDir: dir, config: () => config, processGroup: () => pgrp, journal: (e) => events.push(e) });
  injectors.push(inj);
  return { inj, events };
}

const partition = (drill = 'd1') => ({ drill, service: 'web', fault: 'partition' as const, durationMs: 1000 });

describe('the agent side of a drill refuses what it cannot do safely', () => {
  it('never cuts a node off from loopback or its own addresses', async () => {
    await expect(injector('127.0.0.1').inj.inject(partition())).rejects.toMatchObject({ code: 'DRILL_E_INJECT', message: /peer b is at 127\.0\.0\.1, a loopback address/ });
    const own = Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
    if (own) await expect(injector(own).inj.inject(partition())).rejects.toMatchObject({ code: 'DRILL_E_INJECT', message: /one of this node's own addresses/ });
  });

  it('says which peer could not be resolved, with its code', async () => {
    await expect(injector('no-such-peer.invalid').inj.inject(partition())).rejects.toMatchObject({ code: 'DRILL_E_INJECT', message: /no-such-peer\.invalid of the peer b/ });
  });

  it('refuses an interface name that is not one', async () => {
    await expect(injector('198.18.77.2', '-all').inj.inject({ ...partition(), fault: 'link-down' })).rejects.toMatchObject({ code: 'DRILL_E_INJECT', message: /not a network interface name/ });
  });

  it('makes one network fault at a time', async () => {
    const { inj } = injector('no-such-peer.invalid');
    // The first is still being prepared (its peer is being looked up) when the second comes.
    const first = inj.inject(partition('d1'));
    await expect(inj.inject(partition('d2'))).rejects.toMatchObject({ code: 'DRILL_E_BUSY', message: /drill d1/ });
    await expect(first).rejects.toMatchObject({ code: 'DRILL_E_INJECT' });
    // A network fault whose undo is still pending (recorded by an earlier agent) counts as in effect.
    await new DrillLeftovers(drillLeftoversFile(dir)).recordNet('old', [{ ip: ['link', 'set', 'dev', 'eth9', 'up'] }]);
    await expect(injector('198.18.77.2', 'eth0', process.pid, dir).inj.inject(partition('d3'))).rejects.toMatchObject({ code: 'DRILL_E_BUSY', message: /drill old/ });
  });

  it('kill says so when the process group is gone', async () => {
    const c = spawn('/bin/true', [], { detached: true, stdio: 'ignore' });
    const pid = c.pid as number;
    await new Promise((r) => c.on('exit', r));
    const { inj } = injector('198.18.77.2', 'eth0', pid);
    await expect(inj.inject({ drill: 'k', service: 'web', fault: 'kill', durationMs: 0 })).rejects.toMatchObject({ code: 'DRILL_E_NOT_RUNNING' });
    await expect(inj.inject({ drill: 'h', service: 'web', fault: 'hang', durationMs: 1000 })).rejects.toMatchObject({ code: 'DRILL_E_NOT_RUNNING' });
  });

  it('a hang is resumed when the agent ends before its duration is over', async () => {
    const c = spawn('/bin/sh', ['-c', 'sleep 30'], { detached: true, stdio: 'ignore' });
    const pgid = c.pid as number;
    try {
      const { inj, events } = injector('198.18.77.2', 'eth0', pgid);
      await inj.inject({ drill: 'h', service: 'web', fault: 'hang', durationMs: 60_000 });
      // The group, not its leader: sh may wait in vfork() (state D) while its child is the one stopped.
      await waitFor('the group to be stopped', () => groupHasStoppedMember(pgid));
      await inj.close();
      await waitFor('the group to run again', () => !groupHasStoppedMember(pgid) && groupHasLiveMember(pgid));
      expect(events.some((e) => /undid what drills still held: SIGCONT/.test(e.reason))).toBe(true);
    } finally {
      process.kill(-pgid, 'SIGKILL');
    }
  });
});
