import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHeartbeat, encodeHeartbeat } from '../../../../agent/peers/heartbeat-codec.js';
import { MAX_HEARTBEAT_BYTES, PEER_ROLES, type PeerHeartbeat } from '../../../../common/wire/peer-heartbeat.js';

const KEY = randomBytes(32);
const nodeName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,14}$/);
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const heartbeat: fc.Arbitrary<PeerHeartbeat> = fc.record({
  group: fc.string({ minLength: 1, maxLength: 20 }),
  from: nodeName,
  inc: count,
  seq: count,
  epoch: count,
  granted: count,
  role: fc.constantFrom(...PEER_ROLES),
  proposal: count,
  ready: fc.boolean(),
  priority: fc.integer({ min: 0, max: 256 }),
  vote: fc.option(fc.record({ for: nodeName, epoch: count }), { nil: null }),
  heard: fc.dictionary(nodeName, fc.tuple(count, count), { maxKeys: 5 }),
  lagging: fc.option(fc.record({ by: nodeName, epoch: count, inc: count, seq: count, nodes: fc.array(nodeName, { maxLength: 4 }) }), { nil: undefined }),
}, { requiredKeys: ['group', 'from', 'inc', 'seq', 'epoch', 'granted', 'role', 'proposal', 'ready', 'priority', 'vote', 'heard'] });

describe('heartbeat datagrams', () => {
  it('round-trip any heartbeat', () => {
    fc.assert(
      fc.property(heartbeat, (hb) => {
        const d = decodeHeartbeat(encodeHeartbeat(hb, KEY), KEY);
        expect(d).toEqual({ ok: true, heartbeat: hb });
      }),
    );
  });

  it('never throw on any bytes, and refuse them with a code', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
        const d = decodeHeartbeat(bytes, KEY);
        expect(d.ok).toBe(false);
        if (!d.ok) expect(['PEER_E_TOO_LARGE', 'PEER_E_MALFORMED', 'PEER_E_AUTH']).toContain(d.error.code);
      }),
    );
  });

  it('refuse any altered byte (PEER_E_AUTH) and another cluster\'s key', () => {
    fc.assert(
      fc.property(heartbeat, fc.nat(), fc.integer({ min: 1, max: 255 }), (hb, at, flip) => {
        const bytes = encodeHeartbeat(hb, KEY);
        const i = at % bytes.length;
        bytes[i] = (bytes[i] as number) ^ flip;
        const d = decodeHeartbeat(bytes, KEY);
        expect(d.ok).toBe(false);
        if (!d.ok) expect(['PEER_E_AUTH', 'PEER_E_MALFORMED']).toContain(d.error.code);
      }),
    );
    const other = decodeHeartbeat(encodeHeartbeat(fc.sample(heartbeat, 1)[0] as PeerHeartbeat, randomBytes(32)), KEY);
    expect(other.ok === false && other.error.code).toBe('PEER_E_AUTH');
  });

  it('drop an oversized datagram before reading it', () => {
    const d = decodeHeartbeat(new Uint8Array(MAX_HEARTBEAT_BYTES + 1), KEY);
    expect(d.ok === false && d.error.code).toBe('PEER_E_TOO_LARGE');
  });

  it('refuse well-signed JSON that is no heartbeat', () => {
    const hb = { ...(fc.sample(heartbeat, 1)[0] as PeerHeartbeat), extra: 1 } as unknown as PeerHeartbeat;
    const d = decodeHeartbeat(encodeHeartbeat(hb, KEY), KEY);
    expect(d.ok === false && d.error.code).toBe('PEER_E_MALFORMED');
  });
});
