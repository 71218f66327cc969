import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EnrollmentEvent } from '../../../../common/bridge/nodes.js';
import { Enrollments } from '../../../../main/bridge-host/enrollments.js';
import type { HostContext } from '../../../../main/bridge-host/host-context.js';
import { Manager } from '../../../../main/core/manager.js';
import { freeTcpPort } from '../../../helpers/sshd-server.js';
import { waitFor } from '../../../helpers/wait.js';

let home: string;
let manager: Manager;
let events: EnrollmentEvent[];
let enrollments: Enrollments;

beforeEach(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-enr-'));
  manager = new Manager({ ARMORY_HOME: home });
  await manager.open();
  events = [];
  const ctx = { manager, emit: (_d: string, _e: string, data: EnrollmentEvent) => events.push(data), bundleDir: path.resolve(import.meta.dirname, '../../../..') } as unknown as HostContext;
  enrollments = new Enrollments(ctx);
});

afterEach(() => {
  manager.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const codeOf = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe('enrollments started from the GUI', () => {
  it('reports the live steps and a failure with its reason and what was rolled back (nothing listens on the port)', async () => {
    const port = await freeTcpPort();
    const { id } = enrollments.enroll({ node: 'n1', host: '127.0.0.1', port, user: 'root', auth: { kind: 'password', password: 'x' }, agentPort: 7443 });
    const finished = await waitFor('the enrollment to finish', () => events.find((e): e is Extract<EnrollmentEvent, { type: 'finished' }> => e.type === 'finished' && e.id === id), { timeoutMs: 20_000 });
    expect(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && `${e.step} ${e.status}`)).toContain('connect failed');
    expect(finished).toMatchObject({ ok: false, node: 'n1', failedStep: 'connect', error: { code: 'ENROLL_E_CONNECT' } });
    expect(manager.inventory.data.nodes).toEqual({});
  });

  it('refuses a second enrollment of the same node while one runs, unknown host-key answers, and removals it cannot do', async () => {
    const port = await freeTcpPort();
    enrollments.enroll({ node: 'n1', host: '127.0.0.1', port, user: 'root', auth: { kind: 'agent' }, agentPort: 7443 });
    expect(codeOf(() => enrollments.enroll({ node: 'n1', host: '127.0.0.1', port, user: 'root', auth: { kind: 'agent' }, agentPort: 7443 }))).toBe('BRIDGE_E_BUSY');
    expect(codeOf(() => enrollments.confirmHostKey('no-such-id', 'SHA256:x', true))).toBe('BRIDGE_E_UNKNOWN_ENROLLMENT');
    expect(codeOf(() => enrollments.remove('ghost', undefined))).toBe('MANAGER_E_UNKNOWN_NODE');
    await waitFor('the first enrollment to end', () => events.some((e) => e.type === 'finished'), { timeoutMs: 20_000 });
  });
});
