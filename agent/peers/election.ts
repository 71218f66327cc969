import type { PeerRole } from '../../common/wire/peer-heartbeat.js';

/** What one node knows of another voter: its latest accepted heartbeat, and when it came. */
export interface PeerView {
  readonly name: string;
  /** Local clock time of the latest heartbeat received from it. */
  readonly lastRecvAt: number;
  /** Since when it has been heard without a gap longer than the failure timeout (for failback). */
  readonly freshSince: number;
  readonly priority: number;
  readonly ready: boolean;
  readonly epoch: number;
  readonly granted: number;
  readonly role: PeerRole;
  readonly proposal: number;
  readonly vote: { readonly for: string; readonly epoch: number } | null;
  /** How many voters it hears, itself included. */
  readonly heardCount: number;
  /** Local send time of our heartbeat that its latest one echoes (null: it echoes none of ours). */
  readonly echoSentAt: number | null;
}

/** This node's own side of the view. */
export interface SelfView {
  readonly name: string;
  readonly role: PeerRole;
  readonly ready: boolean;
  /** The highest epoch this node knows to be in force (taken over by someone; durable). */
  readonly epoch: number;
  /** The epoch proposed as candidate or held as active; 0 in standby. */
  readonly proposal: number;
  /** The highest epoch this node granted its vote in, and to whom (durable). */
  readonly granted: { readonly to: string; readonly epoch: number } | null;
  /** Whom the last vote this node sent went to (abstaining since does not free it). */
  readonly lastVote: string | null;
  /** Since when this node has heard a majority without a break (for failback). */
  readonly stableSince: number;
  /**
   * Members whose copy of the group's mirrored data lagged behind the active node, by the newest
   * word of an active node this node knows (its own when active). They stand only when no member
   * with a full copy can.
   */
  readonly lagging?: readonly string[];
}

export interface GroupRules {
  /** Members and witness, each once. */
  readonly voters: readonly string[];
  /** Members that may carry the group's services, with their priorities. */
  readonly members: Readonly<Record<string, number>>;
  readonly failback: 'auto' | 'manual';
  readonly failbackAfterMs: number;
  readonly failAfterMs: number;
  readonly leaseMs: number;
}

export type Verdict = 'idle' | 'stand' | 'won' | 'hold' | 'yield';

export interface Assessment {
  /** Voters heard within the failure timeout, this node included. */
  readonly fresh: readonly string[];
  readonly seesMajority: boolean;
  /** The node this one thinks should be active (null: none can be). */
  readonly choice: string | null;
  /** The vote this node sends now. */
  readonly vote: { readonly for: string; readonly epoch: number } | null;
  /** Voters whose vote for this node at its proposal still counts (its lease), itself included. */
  readonly support: readonly string[];
  readonly verdict: Verdict;
  readonly reason: string;
  /** The epoch this node would propose as a candidate: above every epoch in force or granted that it knows. */
  readonly nextProposal: number;
}

export const majorityOf = (voters: number): number => Math.floor(voters / 2) + 1;

const byPriority = (members: Readonly<Record<string, number>>) => (a: string, b: string) =>
  (members[b] ?? 0) - (members[a] ?? 0) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * The election rule, a pure function of what one node sees. The highest-priority ready member that
 * sees a majority of the voters is the choice, members whose mirrored data lags after those with a
 * full copy; an active incumbent keeps its place unless failback is automatic and a better member
 * has been stable long enough. A voter grants its vote to its
 * choice at the epoch the choice proposes, at most one node per epoch, and never while a vote it
 * gave earlier may still count (the node it voted for is still fresh and has not released). A node
 * is active while votes of a majority, each within its lease, back its proposal.
 */
export function assess(self: SelfView, peers: readonly PeerView[], rules: GroupRules, now: number): Assessment {
  const majority = majorityOf(rules.voters.length);
  const isFresh = (p: PeerView) => now - p.lastRecvAt < rules.failAfterMs && rules.voters.includes(p.name) && p.name !== self.name;
  const freshPeers = peers.filter(isFresh);
  const fresh = [self.name, ...freshPeers.map((p) => p.name)].sort();
  const seesMajority = rules.voters.includes(self.name) && fresh.length >= majority;
  const isMember = (n: string) => Object.hasOwn(rules.members, n);

  // Eligible: a member, ready, seeing a majority itself.
  const eligible: string[] = [];
  if (isMember(self.name) && self.ready && seesMajority) eligible.push(self.name);
  for (const p of freshPeers) if (isMember(p.name) && p.ready && p.heardCount >= majority) eligible.push(p.name);
  // Members with a full copy of the mirrored data first, then by priority.
  const lagging = new Set(self.lagging ?? []);
  const priority = byPriority(rules.members);
  eligible.sort((a, b) => Number(lagging.has(a)) - Number(lagging.has(b)) || priority(a, b));

  // The incumbent: an eligible node holding the highest epoch as active.
  let incumbent: string | null = null;
  let incumbentEpoch = -1;
  if (eligible.includes(self.name) && (self.role === 'active') && self.proposal > incumbentEpoch) {
    incumbent = self.name;
    incumbentEpoch = self.proposal;
  }
  for (const p of freshPeers) {
    if (eligible.includes(p.name) && p.role === 'active' && p.proposal > incumbentEpoch) {
      incumbent = p.name;
      incumbentEpoch = p.proposal;
    }
  }
  let choice: string | null = eligible[0] ?? null;
  if (incumbent !== null && choice !== incumbent) {
    const best = choice as string;
    const stableSince = best === self.name ? self.stableSince : (freshPeers.find((p) => p.name === best) as PeerView).freshSince;
    const failBack = rules.failback === 'auto' && now - stableSince >= rules.failbackAfterMs;
    if (!failBack) choice = incumbent;
  }

  // The promise of the last vote this node sent to another node: while that node is fresh and has
  // not announced that it holds nothing, the vote may still count for it, so this node gives no
  // vote to anyone else, itself included (it does not stand either).
  const promisedTo = self.lastVote !== null && self.lastVote !== self.name ? peers.find((p) => p.name === self.lastVote) : undefined;
  const promised = promisedTo !== undefined && isFresh(promisedTo) && promisedTo.role !== 'standby';

  // The vote.
  let vote: Assessment['vote'] = null;
  if (self.role === 'candidate' || self.role === 'active') {
    if (choice === self.name && self.proposal > 0) vote = { for: self.name, epoch: self.proposal };
  } else if (self.role === 'standby' && choice !== null && choice !== self.name && rules.voters.includes(self.name)) {
    const target = freshPeers.find((p) => p.name === choice) as PeerView;
    const bound = promised && self.lastVote !== choice;
    const offered = (target.role === 'candidate' || target.role === 'active') && target.proposal > 0 && target.proposal >= self.epoch;
    const grantable = self.granted === null || target.proposal > self.granted.epoch || (target.proposal === self.granted.epoch && self.granted.to === choice);
    if (!bound && offered && grantable) vote = { for: choice, epoch: target.proposal };
  }

  // Support for this node's own proposal.
  const support: string[] = [];
  if ((self.role === 'candidate' || self.role === 'active') && self.proposal > 0) {
    if (vote?.for === self.name) support.push(self.name);
    for (const p of peers) {
      if (p.name === self.name || !rules.voters.includes(p.name)) continue;
      if (p.vote?.for === self.name && p.vote.epoch === self.proposal && p.echoSentAt !== null && now < p.echoSentAt + rules.leaseMs) support.push(p.name);
    }
    support.sort();
  }

  // Fresh voters that can no longer grant this candidate's proposal: they granted that epoch, or a
  // later one, and do not vote for it (a vote is given to one node per epoch).
  const lost =
    self.role === 'candidate' && self.proposal > 0
      ? freshPeers.filter((p) => p.granted >= self.proposal && !(p.vote?.for === self.name && p.vote.epoch === self.proposal)).map((p) => p.name).sort()
      : [];
  const nextProposal = Math.max(self.epoch, self.granted?.epoch ?? 0, ...freshPeers.map((p) => Math.max(p.epoch, p.granted))) + 1;
  const base = { fresh, seesMajority, choice, vote, support, nextProposal };
  const why = (): string => {
    if (!rules.voters.includes(self.name)) return 'not a voter of this group';
    if (!seesMajority) return `hears ${fresh.length} of ${rules.voters.length} voters, fewer than a majority (${majority})`;
    if (!isMember(self.name)) return 'a witness, never a candidate';
    if (!self.ready) return 'not ready to carry the group';
    if (choice !== null && lagging.has(self.name) && !lagging.has(choice)) return `its copy of the mirrored data lags; ${choice} has a full one`;
    return choice === null ? 'no eligible member' : `${choice} is the better choice`;
  };
  switch (self.role) {
    case 'standby':
      if (choice === self.name && promised) return { ...base, verdict: 'idle', reason: `its vote for ${self.lastVote} may still count` };
      return choice === self.name ? { ...base, verdict: 'stand', reason: `best ready member and hears a majority (${fresh.length}/${rules.voters.length})` } : { ...base, verdict: 'idle', reason: why() };
    case 'candidate':
      if (choice !== self.name) return { ...base, verdict: 'yield', reason: why() };
      if (self.epoch >= self.proposal) return { ...base, verdict: 'yield', reason: `epoch ${self.epoch} is already in force; ${self.proposal} cannot be taken` };
      if (support.length >= majority) return { ...base, verdict: 'won', reason: `votes of ${support.join(', ')} for epoch ${self.proposal}` };
      if (rules.voters.length - lost.length < majority) {
        // Candidates that stood at once took the same epoch: waiting would wait for ever.
        return { ...base, verdict: 'yield', reason: `epoch ${self.proposal} can no longer win: ${lost.join(', ')} granted it or a later one to another node` };
      }
      return { ...base, verdict: 'hold', reason: `waiting for votes (${support.length}/${majority})` };
    case 'active':
      if (self.epoch > self.proposal) return { ...base, verdict: 'yield', reason: `a newer epoch ${self.epoch} exists (holding ${self.proposal})` };
      if (choice !== self.name) return { ...base, verdict: 'yield', reason: why() };
      if (support.length < majority) return { ...base, verdict: 'yield', reason: `lease ran out: votes of ${support.length} voters still count, ${majority} needed` };
      return { ...base, verdict: 'hold', reason: `backed by ${support.join(', ')}` };
    case 'releasing':
      return { ...base, verdict: 'hold', reason: 'releasing' };
  }
}
