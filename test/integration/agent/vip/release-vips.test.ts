import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_BIN } from '../../../helpers/agent-harness.js';
import { TestNetwork } from '../../../helpers/netns.js';

// What the keeper and systemd's ExecStopPost run when an agent dies: every recorded VIP goes, by
// route netlink from inside the host's network namespace; one that is not configured is no error.
describe('armory-agent release-vips', () => {
  const net = new TestNetwork();
  let dir = '';
  beforeAll(() => {
    net.up(['h']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-release-vips-'));
  });
  afterAll(() => {
    net.down();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const addresses = () => execFileSync('ip', ['-n', net.host('h').netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });

  it('removes the recorded addresses the host holds, counts absent ones as removed, and empties the record', () => {
    const held = `${net.subnet}.200/24`;
    const notHeld = `${net.subnet}.201/24`;
    execFileSync('ip', ['-n', net.host('h').netns, 'addr', 'add', held, 'dev', 'eth0']);
    expect(addresses()).toContain(`${net.subnet}.200/24`);
    const file = path.join(dir, 'peers', 'held-vips.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify([{ address: held, iface: 'eth0' }, { address: notHeld, iface: 'eth0' }, { address: `${net.subnet}.202/24`, iface: 'nosuch0' }]));

    const out = execFileSync('ip', ['netns', 'exec', net.host('h').netns, process.execPath, AGENT_BIN, 'release-vips', '--state-dir', dir], { encoding: 'utf8' });
    expect(out).toContain(`removed ${held} from eth0`);
    expect(out).toContain(`removed ${notHeld} from eth0`);
    expect(out).toMatch(/nosuch0.*(ENODEV|no interface)/);
    expect(addresses()).not.toContain(`${net.subnet}.200/`);
    expect(addresses()).toContain(`${net.host('h').address}/24`);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual([]);
  });
});
