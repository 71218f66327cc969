import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHarness, cli } from '../../helpers/agent-harness.js';

let h: AgentHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

/** Sends raw bytes to the control socket and collects the replies until the agent answers `count` lines or closes. */
function raw(socketPath: string, payload: Buffer | string, count = 1): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    let buf = '';
    const done = () => {
      s.destroy();
      resolve(buf.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as unknown));
    };
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.split('\n').length - 1 >= count) done();
    });
    s.on('close', done);
    s.on('error', reject);
    s.write(payload);
  });
}

describe('bad input never takes the agent down', () => {
  it('a missing executable, an unusable cwd and an unknown user each fail their service with a clear reason; others run', async () => {
    h = new AgentHarness(`services:
  noexe:
    command: /nonexistent/program
  nopath:
    command: no-such-command-anywhere
  badcwd:
    command: /bin/sleep
    args: ["1000"]
    cwd: /nonexistent/dir
  baduser:
    command: /bin/sleep
    args: ["1000"]
    user: no_such_user_here
  good:
    command: /bin/sleep
    args: ["1000"]
`);
    await h.start();
    const want: Record<string, RegExp> = {
      noexe: /\/nonexistent\/program: no such executable file/,
      nopath: /no-such-command-anywhere: command not found in PATH/,
      badcwd: /working directory \/nonexistent\/dir does not exist/,
      baduser: /user "no_such_user_here" does not exist/,
    };
    for (const [name, re] of Object.entries(want)) {
      const s = await h.waitService(name, 'failed', (x) => x.state === 'failed');
      expect(s.reason).toMatch(re);
    }
    expect((await h.service('good')).state).toBe('running');
  });

  it('answers malformed, unknown, oversized and mistyped requests with coded errors and keeps serving', async () => {
    h = new AgentHarness(`services:\n  s:\n    command: /bin/sleep\n    args: ["1000"]\n`);
    await h.start();
    const sock = path.join(h.stateDir, 'agent.sock');
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    expect(fs.statSync(h.stateDir).mode & 0o777).toBe(0o700);

    const [garbage] = (await raw(sock, 'this is not json\n')) as { ok: boolean; error: { code: string } }[];
    expect(garbage?.error.code).toBe('WIRE_E_MALFORMED');
    const [unknown] = (await raw(sock, '{"id":1,"method":"format-disk"}\n')) as { id: number; error: { code: string } }[];
    expect(unknown).toMatchObject({ id: 1, ok: false, error: { code: 'RPC_E_UNKNOWN_METHOD' } });
    const [badParams] = (await raw(sock, '{"id":2,"method":"stop","params":{"name":42}}\n')) as { error: { code: string } }[];
    expect(badParams?.error.code).toBe('RPC_E_BAD_PARAMS');
    const [noService] = (await raw(sock, '{"id":3,"method":"stop","params":{"name":"nope"}}\n')) as { error: { code: string; message: string } }[];
    expect(noService?.error).toMatchObject({ code: 'AGENT_E_UNKNOWN_SERVICE' });
    const [huge] = (await raw(sock, Buffer.alloc(2 * 1024 * 1024, 0x61))) as { error: { code: string } }[];
    expect(huge?.error.code).toBe('WIRE_E_FRAME_TOO_LARGE');

    const r = await cli(['status', '--state-dir', h.stateDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^s\s+running/m);
  });

  it('the command line rejects bad flags and unknown commands with usage, and says when no agent runs', async () => {
    const bad = await cli(['status', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--bogus'/);
    const unknown = await cli(['explode']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "explode"/);
    const none = await cli(['status', '--state-dir', '/tmp/armory-no-agent-here']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no agent is running/);
  });
});
