import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossCheck, type CrossIssue } from '../../../../common/config/cross-check.js';
import { parseConfigText, type ConfigProblem } from '../../../../common/config/load.js';

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function where(text: string, needle: string): { line: number; column: number } {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`test bug: ${JSON.stringify(needle)} is not in the text`);
  return { line: i + 1, column: (lines[i] ?? '').indexOf(needle) + 1 };
}

const lineOf = (text: string, needle: string) => where(text, needle).line;

function problemsOf(text: string): ConfigProblem[] {
  const r = parseConfigText(text);
  if (r.ok) throw new Error('expected the configuration to be refused');
  return r.problems;
}

/** The value a path leads to, or undefined (own properties only, as crossCheck reads them). */
function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, p)) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

const WATCHDOG_NEEDS_NOTIFY = 'a watchdog needs notify: true (the program sends WATCHDOG=1)';
const WAIT_NEEDS_MIRROR = 'waitForMirror needs the service to mirror its folders somewhere: mirror with standbys: true or a to folder';

describe('crossCheck finds', () => {
  const doc = {
    nodes: { a: { address: '10.0.0.1' }, b: { address: '10.0.0.2' } },
    services: {
      web: { command: 'x', placement: { nodes: ['a', 'ghost', 'b', 'spook'] } },
      db: { command: 'y', watchdog: '5s' },
    },
    groups: {
      g: { members: [{ node: 'a' }, { node: 'zz' }], services: ['web', 'nope', 'db'], witness: 'w' },
    },
  };

  it('every unknown reference and the watchdog without notify, at their paths', () => {
    expect(crossCheck(doc)).toEqual<CrossIssue[]>([
      { path: ['services', 'web', 'placement', 'nodes', 1], message: 'unknown node "ghost"' },
      { path: ['services', 'web', 'placement', 'nodes', 3], message: 'unknown node "spook"' },
      { path: ['services', 'db', 'watchdog'], message: WATCHDOG_NEEDS_NOTIFY },
      { path: ['groups', 'g', 'members', 1, 'node'], message: 'unknown node "zz"' },
      { path: ['groups', 'g', 'services', 1], message: 'unknown service "nope"' },
      { path: ['groups', 'g', 'witness'], message: 'unknown node "w"' },
    ]);
  });

  it('nothing when every reference is known', () => {
    expect(
      crossCheck({
        nodes: { a: {}, b: {} },
        services: { web: { placement: { nodes: ['b', 'a'] }, notify: true, watchdog: '1s' }, db: {} },
        groups: { g: { members: [{ node: 'a' }, { node: 'b' }], services: ['web', 'db'], witness: 'b' } },
      }),
    ).toEqual([]);
  });

  it('a shim whose client ends are to run on unknown nodes', () => {
    const shim = (clients: unknown) => ({ listen: '127.0.0.1:1', target: '127.0.0.1:2', port: 3, clients });
    expect(crossCheck({ nodes: { a: {} }, services: { web: { shims: [shim(['a']), shim(['a', 'ghost'])] } } })).toEqual([
      { path: ['services', 'web', 'shims', 1, 'clients', 1], message: 'unknown node "ghost"' },
    ]);
    expect(crossCheck({ nodes: { a: {} }, services: { web: { shims: [shim('a'), 'x', null] } } })).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['no mirror', undefined],
    ['a mirror to no standby and no folder', { folders: ['/d'], standbys: false }],
    ['a mirror written as text', 'yes'],
  ])('a shim that waits for the mirror with nothing to wait for (%s)', (_label, mirror) => {
    const shim = (waitForMirror: unknown) => ({ listen: '127.0.0.1:1', target: '127.0.0.1:2', port: 3, waitForMirror });
    expect(crossCheck({ services: { web: { mirror, shims: [shim(false), shim(true), shim('true')] } } })).toEqual([
      { path: ['services', 'web', 'shims', 1, 'waitForMirror'], message: WAIT_NEEDS_MIRROR },
    ]);
  });

  it.each<[string, unknown]>([
    ['standbys by default', { folders: ['/d'] }],
    ['standbys: true', { folders: ['/d'], standbys: true }],
    ['a to folder only', { folders: ['/d'], standbys: false, to: '/mnt/disk2' }],
  ])('nothing for a shim that waits for a mirror that has a target (%s)', (_label, mirror) => {
    expect(crossCheck({ services: { web: { mirror, shims: [{ listen: '127.0.0.1:1', target: '127.0.0.1:2', port: 3, waitForMirror: true }] } } })).toEqual([]);
  });

  it.each([
    ['notify missing', {}],
    ['notify: false', { notify: false }],
    ['notify written as text', { notify: 'true' }],
    ['notify: 1', { notify: 1 }],
  ])('a watchdog without notify: true (%s)', (_label, fields) => {
    expect(crossCheck({ services: { web: { watchdog: '1s', ...fields } } })).toEqual([
      { path: ['services', 'web', 'watchdog'], message: WATCHDOG_NEEDS_NOTIFY },
    ]);
  });

  it('names inherited from Object.prototype unknown unless they are defined', () => {
    expect(
      crossCheck({
        services: { web: { placement: { nodes: ['toString', 'constructor', '__proto__'] } } },
        groups: { g: { members: [], services: ['hasOwnProperty'], witness: 'valueOf' } },
      }).map((i) => i.message),
    ).toEqual(['unknown node "toString"', 'unknown node "constructor"', 'unknown node "__proto__"', 'unknown service "hasOwnProperty"', 'unknown node "valueOf"']);
    expect(crossCheck({ nodes: { toString: {} }, services: { web: { placement: { nodes: ['toString'] } } } })).toEqual([]);
  });

  it('a node with problems of its own still counts as defined', () => {
    expect(crossCheck({ nodes: { a: { address: 42, bogus: true } }, services: { web: { placement: { nodes: ['a'] } } } })).toEqual([]);
  });

  it('every reference unknown when the nodes section is not a map', () => {
    expect(crossCheck({ nodes: ['a'], services: { web: { placement: { nodes: ['a'] } } } })).toEqual([
      { path: ['services', 'web', 'placement', 'nodes', 0], message: 'unknown node "a"' },
    ]);
  });
});

describe('crossCheck leaves to the schema', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [{ services: {} }]],
    ['a string', 'services: {}'],
    ['a number', 7],
    ['sections of the wrong type', { nodes: 'a', services: ['web'], groups: 3 }],
    ['entries of the wrong type', { services: { web: 'x', db: null }, groups: { g: ['a'], h: null } }],
    ['placement and members of the wrong type', { services: { web: { placement: 'a' }, db: { placement: { nodes: 'a' } } }, groups: { g: { members: 'a', services: 'web', witness: 3 } } }],
    ['references that are not strings', { services: { web: { placement: { nodes: [1, null, {}, ['a']] } } }, groups: { g: { members: [null, 'a', { node: 5 }], services: [1, {}] } } }],
  ])('what is not a reference: %s', (_label, doc) => {
    expect(crossCheck(doc)).toEqual([]);
  });
});

/** Names that meet and miss each other, including ones every object inherits. */
const someName = fc.constantFrom('a', 'b', 'web', 'db', 'ghost', 'toString', 'constructor', '__proto__');
const junk = fc.anything({ maxDepth: 2 });
const orJunk = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: junk });

/** Documents shaped roughly like a configuration, with junk anywhere, so that every branch is reached. */
const configLike = fc.record(
  {
    nodes: orJunk(fc.dictionary(someName, junk)),
    services: orJunk(
      fc.dictionary(
        someName,
        orJunk(
          fc.record(
            {
              notify: orJunk(fc.boolean()),
              watchdog: orJunk(fc.constant('1s')),
              placement: orJunk(fc.record({ nodes: orJunk(fc.array(orJunk(someName))) }, { requiredKeys: [] })),
            },
            { requiredKeys: [] },
          ),
        ),
      ),
    ),
    groups: orJunk(
      fc.dictionary(
        someName,
        orJunk(
          fc.record(
            {
              members: orJunk(fc.array(orJunk(fc.record({ node: orJunk(someName) })))),
              services: orJunk(fc.array(orJunk(someName))),
              witness: orJunk(someName),
            },
            { requiredKeys: [] },
          ),
        ),
      ),
    ),
  },
  { requiredKeys: [] },
);

/** Every string anywhere in a value, keys included. */
function stringsIn(v: unknown, found = new Set<string>()): Set<string> {
  if (typeof v === 'string') found.add(v);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      found.add(k);
      stringsIn(x, found);
    }
  }
  return found;
}

describe('crossCheck on documents of any shape', () => {
  it('never throws on anything', () => {
    const anything = fc.anything({ withNullPrototype: true, withObjectString: true, withSparseArray: true, withBoxedValues: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withBigInt: true });
    fc.assert(
      fc.property(anything, (doc) => {
        expect(Array.isArray(crossCheck(doc))).toBe(true);
        expect(Array.isArray(crossCheck({ nodes: doc, services: doc, groups: doc }))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('reports only real problems: each path leads to an undefined name or to a watchdog without notify', () => {
    fc.assert(
      fc.property(configLike, (doc) => {
        // A section that is not a map defines nothing.
        const defined = (section: string, n: unknown) => {
          const v = valueAt(doc, [section]);
          return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).includes(n as string);
        };
        for (const issue of crossCheck(doc)) {
          const at = valueAt(doc, issue.path);
          if (issue.message === WATCHDOG_NEEDS_NOTIFY) {
            expect(issue.path.at(-1)).toBe('watchdog');
            expect(at).not.toBeUndefined();
            expect(valueAt(doc, [...issue.path.slice(0, -1), 'notify'])).not.toBe(true);
          } else {
            expect(typeof at).toBe('string');
            const section = issue.message.startsWith('unknown service') ? 'services' : 'nodes';
            expect(issue.message).toBe(`unknown ${section === 'services' ? 'service' : 'node'} "${String(at)}"`);
            expect(defined(section, at)).toBe(false);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('finds nothing once every referenced name is defined and every watchdog has notify', () => {
    fc.assert(
      fc.property(configLike, (doc) => {
        const everything = Object.fromEntries([...stringsIn(doc)].map((n) => [n, {}]));
        const services = valueAt(doc, ['services']);
        const fixed =
          services !== null && typeof services === 'object' && !Array.isArray(services)
            ? Object.fromEntries(Object.entries(services).map(([k, s]) => [k, s !== null && typeof s === 'object' && !Array.isArray(s) ? { ...s, notify: true } : s]))
            : services;
        const complete = { ...doc, nodes: everything, services: { ...everything, ...(fixed as object) } };
        expect(crossCheck(complete)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('cross-field problems through parseConfigText', () => {
  it('are listed with every unrelated field problem, each at its line, in line order', () => {
    const text = `nodes:
  a: { address: 10.0.0.1, agentPort: 99999 }
  b: { address: 10.0.0.2 }
services:
  web:
    command: x
    watchdog: 5s
    restart: { policy: sometimes }
    placement:
      nodes: [a, ghost]
  db:
    comand: y
groups:
  g:
    members:
      - node: a
      - node: zz
    services: [web, nope]
    witness: w
    failAfter: soon
jobs:
  j: { command: x, replicas: 1, quorum: 2 }
`;
    const problems = problemsOf(text);
    const expected: [string, string | RegExp, number][] = [
      ['nodes.a.agentPort', /^Too big/, lineOf(text, 'agentPort')],
      ['services.web.watchdog', WATCHDOG_NEEDS_NOTIFY, lineOf(text, 'watchdog')],
      ['services.web.restart.policy', /^Invalid option/, lineOf(text, 'sometimes')],
      ['services.web.placement.nodes[1]', 'unknown node "ghost"', lineOf(text, 'ghost')],
      ['services.db.command', 'required field is missing', lineOf(text, 'db:')],
      ['services.db', 'unknown field: comand', lineOf(text, 'comand')],
      ['groups.g.members[1].node', 'unknown node "zz"', lineOf(text, 'zz')],
      ['groups.g.services[1]', 'unknown service "nope"', lineOf(text, 'nope')],
      ['groups.g.witness', 'unknown node "w"', lineOf(text, 'witness')],
      ['groups.g.failAfter', /^"soon" is not a duration/, lineOf(text, 'soon')],
      ['jobs.j.quorum', 'quorum cannot exceed replicas', lineOf(text, 'quorum')],
    ];
    expect(problems).toEqual(expected.map(([path, message, line]) => expect.objectContaining({ path, message: typeof message === 'string' ? message : expect.stringMatching(message), line })));
  });

  it('are listed once each when they are the only problems', () => {
    const text = `nodes:
  a: { address: 10.0.0.1 }
services:
  web:
    command: x
    watchdog: 1s
    placement: { nodes: [a, ghost] }
groups:
  g:
    members: [{ node: zz }]
    services: [nope]
    witness: w
`;
    expect(problemsOf(text)).toEqual([
      { path: 'services.web.watchdog', message: WATCHDOG_NEEDS_NOTIFY, ...where(text, 'watchdog') },
      { path: 'services.web.placement.nodes[1]', message: 'unknown node "ghost"', ...where(text, 'ghost') },
      { path: 'groups.g.members[0].node', message: 'unknown node "zz"', ...where(text, 'node: zz') },
      { path: 'groups.g.services[0]', message: 'unknown service "nope"', ...where(text, 'nope') },
      { path: 'groups.g.witness', message: 'unknown node "w"', ...where(text, 'witness') },
    ]);
  });

  it('a shim that waits for a mirror the service does not have, at the option\'s line', () => {
    const text = `services:
  web:
    command: x
    mirror: { folders: [/var/lib/web], standbys: false }
    shims:
      - { listen: "127.0.0.1:6380", target: "127.0.0.1:6379", port: 7380 }
      - listen: "127.0.0.1:6381"
        target: "127.0.0.1:6379"
        port: 7381
        waitForMirror: true
`;
    expect(problemsOf(text)).toEqual([{ path: 'services.web.shims[1].waitForMirror', message: WAIT_NEEDS_MIRROR, ...where(text, 'waitForMirror') }]);
    expect(parseConfigText(text.replace('standbys: false', 'standbys: false, to: /mnt/disk2')).ok).toBe(true);
  });

  it('still finds unknown nodes when the nodes section itself has problems', () => {
    const text = 'nodes:\n  a: { address: 10.0.0.1, colour: red }\nservices:\n  web:\n    command: x\n    placement: { nodes: [a, ghost] }\n';
    expect(problemsOf(text).map((p) => [p.path, p.message, p.line])).toEqual([
      ['nodes.a', 'unknown field: colour', 2],
      ['services.web.placement.nodes[1]', 'unknown node "ghost"', 6],
    ]);
  });
});
