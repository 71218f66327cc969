import { createHmac, timingSafeEqual } from 'node:crypto';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { HEARTBEAT_TAG_BYTES, HEARTBEAT_VERSION, MAX_HEARTBEAT_BYTES, peerHeartbeatSchema, type PeerHeartbeat } from '../../common/wire/peer-heartbeat.js';

/**
 * A heartbeat datagram: one version byte, the heartbeat as JSON, and an HMAC-SHA256 tag over both,
 * keyed by the cluster's peer key. The size is checked before anything else, the tag before the
 * JSON is parsed: nothing from an outsider reaches the parser.
 */
export function encodeHeartbeat(hb: PeerHeartbeat, key: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from([HEARTBEAT_VERSION]), Buffer.from(JSON.stringify(hb), 'utf8')]);
  const tag = createHmac('sha256', key).update(body).digest();
  const out = Buffer.concat([body, tag]);
  if (out.length > MAX_HEARTBEAT_BYTES) throw new ArmoryError('PEER_E_TOO_LARGE', `a heartbeat of ${out.length} bytes exceeds ${MAX_HEARTBEAT_BYTES}`);
  return out;
}

export type DecodeResult = { ok: true; heartbeat: PeerHeartbeat } | { ok: false; error: ArmoryError };

const fail = (code: 'PEER_E_TOO_LARGE' | 'PEER_E_MALFORMED' | 'PEER_E_AUTH', message: string): DecodeResult => ({ ok: false, error: new ArmoryError(code, message) });

export function decodeHeartbeat(datagram: Uint8Array, key: Uint8Array): DecodeResult {
  if (datagram.length > MAX_HEARTBEAT_BYTES) return fail('PEER_E_TOO_LARGE', `datagram of ${datagram.length} bytes exceeds ${MAX_HEARTBEAT_BYTES}`);
  if (datagram.length < 1 + 2 + HEARTBEAT_TAG_BYTES) return fail('PEER_E_MALFORMED', `datagram of ${datagram.length} bytes is too short`);
  if (datagram[0] !== HEARTBEAT_VERSION) return fail('PEER_E_MALFORMED', `unknown heartbeat version ${datagram[0]}`);
  const body = datagram.subarray(0, datagram.length - HEARTBEAT_TAG_BYTES);
  const tag = datagram.subarray(datagram.length - HEARTBEAT_TAG_BYTES);
  const expected = createHmac('sha256', key).update(body).digest();
  if (!timingSafeEqual(expected, tag)) return fail('PEER_E_AUTH', 'the authentication tag does not match the cluster peer key');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(1)));
  } catch {
    return fail('PEER_E_MALFORMED', 'the heartbeat is not UTF-8 JSON');
  }
  const parsed = peerHeartbeatSchema.safeParse(json);
  if (!parsed.success) return fail('PEER_E_MALFORMED', `the heartbeat does not match its schema: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return { ok: true, heartbeat: parsed.data };
}
