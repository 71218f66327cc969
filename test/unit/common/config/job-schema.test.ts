import { describe, expect, it } from 'vitest';
import { parseConfigText, type ConfigProblem } from '../../../../common/config/load.js';

function problems(text: string): Pick<ConfigProblem, 'path' | 'message'>[] {
  const r = parseConfigText(text);
  return r.ok ? [] : r.problems.map((p) => ({ path: p.path, message: p.message }));
}

describe('the job entry of the configuration', () => {
  it('takes a full job and fills the defaults', () => {
    const r = parseConfigText('nodes:\n  a: { address: 198.18.0.2 }\n  b: { address: 198.18.0.3 }\njobs:\n  j:\n    command: /bin/true\n    on: nodes\n    nodes: [a, b]\n    replicas: 2\n    inputs: [/srv/in/a.txt, /srv/other/b.txt]\n    stdin: /srv/in/stdin\n    outputs: [out/result.txt]\n    timeout: 2s\n');
    expect(r.ok && r.config.jobs.j).toEqual({
      command: '/bin/true',
      args: [],
      replicas: 2,
      quorum: 2,
      on: 'nodes',
      nodes: ['a', 'b'],
      inputs: ['/srv/in/a.txt', '/srv/other/b.txt'],
      outputs: ['out/result.txt'],
      stdin: '/srv/in/stdin',
      timeout: 2000,
      retries: 1,
    });
  });

  it('refuses relative inputs, outputs outside the working directory, clashing names and too few nodes', () => {
    expect(problems('jobs:\n  j:\n    command: x\n    inputs: [in.txt]\n    stdin: also-relative\n')).toEqual([
      { path: 'jobs.j.inputs[0]', message: 'must be an absolute path (it is read on the machine that starts the job)' },
      { path: 'jobs.j.stdin', message: 'must be an absolute path (it is read on the machine that starts the job)' },
    ]);
    expect(problems('jobs:\n  j:\n    command: x\n    outputs: [/etc/passwd, ../up, ok/../../up]\n').map((p) => p.path)).toEqual(['jobs.j.outputs[0]', 'jobs.j.outputs[1]', 'jobs.j.outputs[2]']);
    expect(problems('jobs:\n  j:\n    command: x\n    inputs: [/a/data.txt, /b/data.txt]\n    outputs: [r, r]\n')).toEqual([
      { path: 'jobs.j.inputs[1]', message: 'two inputs are both named "data.txt" in the working directory' },
      { path: 'jobs.j.outputs', message: 'an output is listed twice' },
    ]);
    expect(problems('jobs:\n  j:\n    command: x\n    inputs: [/srv/]\n')).toEqual([{ path: 'jobs.j.inputs[0]', message: 'an input must name a file' }]);
    expect(problems('nodes:\n  a: { address: x }\njobs:\n  j:\n    command: x\n    on: nodes\n    nodes: [a]\n')).toEqual([{ path: 'jobs.j.nodes', message: '3 replicas need at least 3 nodes to run on' }]);
  });

  it('refuses a job that names an unknown node', () => {
    expect(problems('jobs:\n  j:\n    command: x\n    on: nodes\n    replicas: 1\n    quorum: 1\n    nodes: [ghost]\n')).toEqual([{ path: 'jobs.j.nodes[0]', message: 'unknown node "ghost"' }]);
  });
});
