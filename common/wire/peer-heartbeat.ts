import { z } from 'zod';

/** Version byte that starts every heartbeat datagram. */
export const HEARTBEAT_VERSION = 1;
/** The largest heartbeat datagram accepted (version + JSON + 32-byte tag); bigger ones are dropped unread. */
export const MAX_HEARTBEAT_BYTES = 1200;
/** Length of the HMAC-SHA256 tag that ends a datagram. */
export const HEARTBEAT_TAG_BYTES = 32;

const nodeName = z.string().min(1).max(63).regex(/^[a-z0-9][a-z0-9-]*$/);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Roles a node announces: `releasing` still holds (or may hold) the virtual IP; `standby` holds nothing. */
export const PEER_ROLES = ['standby', 'candidate', 'active', 'releasing'] as const;
export type PeerRole = (typeof PEER_ROLES)[number];

/**
 * An active node's word on which members' copies of the group's mirrored data lag behind it (their
 * mirror target is down or catching up), stamped with its epoch and the incarnation and sequence
 * number of the active's heartbeat that carried it: the newest stamp wins. The active node states it in every
 * heartbeat while the list is not empty (no word from the active: nothing lags); the other voters
 * pass a non-empty word on, so that a member cut off from the active learns it from the others.
 */
export const laggingWordSchema = z.strictObject({
  by: nodeName,
  epoch: count,
  inc: count,
  seq: count,
  nodes: z.array(nodeName).max(16),
});
export type LaggingWord = z.output<typeof laggingWordSchema>;

/**
 * One peer heartbeat, sent by every voter of a failover group to every other at the group's
 * interval. `inc` (incarnation, raised durably at every agent start) and `seq` order a sender's
 * heartbeats, so that replays are refused. `epoch` is the highest epoch the sender knows to have
 * been taken over (in force); `granted` the highest epoch it gave its vote in; a candidate or
 * active node states in `proposal` the epoch it proposes or holds. `vote` grants the sender's
 * vote to a candidate at that candidate's proposed epoch, and `heard` echoes the latest heartbeat
 * the sender received from each voter it currently hears (its view), which is what lets the
 * receiver time its lease from its own send time. `lagging` is described above.
 */
export const peerHeartbeatSchema = z.strictObject({
  group: z.string().min(1).max(63),
  from: nodeName,
  inc: count,
  seq: count,
  epoch: count,
  granted: count,
  role: z.enum(PEER_ROLES),
  proposal: count,
  ready: z.boolean(),
  priority: z.number().int().min(0).max(256),
  vote: z.strictObject({ for: nodeName, epoch: count }).nullable(),
  heard: z.record(nodeName, z.tuple([count, count])).refine((h) => Object.keys(h).length <= 16, 'at most 16 voters'),
  lagging: laggingWordSchema.optional(),
});
export type PeerHeartbeat = z.output<typeof peerHeartbeatSchema>;
