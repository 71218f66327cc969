import { heldVipsFile, releaseHeldVips } from '../vip/held-vips.js';
import { stopGroupPrograms } from './stop-group-programs.js';

/**
 * What whoever sees the agent die does (the keeper before it starts the agent again, systemd's
 * ExecStopPost): the node's virtual IPs go first, at once, since a standby is about to take them
 * over; then the programs of its failover groups are stopped (bounded), since they must not serve
 * beside the new active node. A restarted agent starts them again where its group is active.
 */
export async function releaseDeadAgent(stateDir: string): Promise<string[]> {
  const said = await releaseHeldVips(heldVipsFile(stateDir));
  return [...said, ...(await stopGroupPrograms(stateDir))];
}
