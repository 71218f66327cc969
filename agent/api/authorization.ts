import type { AgentMethod } from '../../common/wire/agent-control.js';
import type { PeerIdentity } from './peer-identity.js';

/**
 * Who may call what. The node's own administrator (the owner-only control socket) and the
 * cluster's manager may do everything; another agent of the cluster may look, and replicate a
 * service's state to this node (the handlers check that both nodes carry that service).
 */
const PEER_AGENT_MAY: ReadonlySet<AgentMethod> = new Set(['hello', 'status', 'events', 'metrics', 'checkpoint.put', 'mirror.apply', 'mirror.list']);

export function mayCall(caller: PeerIdentity, method: AgentMethod): boolean {
  if (caller.role === 'local' || caller.role === 'manager') return true;
  return PEER_AGENT_MAY.has(method);
}
