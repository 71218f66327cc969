import { spawn, type ChildProcess } from 'node:child_process';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { runCommand } from '../os/run-command.js';
import { changeAddress, NetlinkError } from '../os/rtnetlink.js';

/**
 * Gratuitous ARP repeated as Pacemaker's IPaddr2 does (5 announcements), 1 s apart; the first
 * leaves at once. Each is one `arping -c 1` started by the agent: the announcements stop when the
 * address is removed, and end with the agent, so a node that lost the address never pulls the
 * clients back to itself.
 */
export const ARP_REPEATS = 5;
export const ARP_EVERY_MS = 1000;

/**
 * One virtual IP on one interface of this node: added and removed as `ip addr add` / `ip addr del`
 * do (by route netlink, or the `ip` command where koffi is missing), and gratuitous ARP
 * with iputils `arping -U` so that the neighbours move to this node's MAC address at once.
 */
export class VirtualIp {
  readonly ip: string;
  private arpTimer: NodeJS.Timeout | null = null;
  private arping: ChildProcess | null = null;

  constructor(
    readonly address: string,
    readonly iface: string,
  ) {
    this.ip = address.split('/')[0] as string;
  }

  /** Adds the address; already present counts as done. */
  async add(): Promise<void> {
    if (this.byNetlink('add')) return;
    const r = await runCommand('ip', ['addr', 'add', this.address, 'dev', this.iface]);
    if (r.code !== 0 && !/File exists/.test(r.stderr)) {
      throw new ArmoryError('VIP_E_COMMAND', `ip addr add ${this.address} dev ${this.iface} failed: ${r.stderr.trim()}`, { address: this.address, interface: this.iface });
    }
  }

  /** Removes the address (and stops announcing it); already absent counts as done. */
  async remove(): Promise<void> {
    this.stopAnnouncing();
    if (this.byNetlink('del')) return;
    const r = await runCommand('ip', ['addr', 'del', this.address, 'dev', this.iface]);
    if (r.code !== 0 && !/Cannot assign requested address|not found/i.test(r.stderr)) {
      throw new ArmoryError('VIP_E_COMMAND', `ip addr del ${this.address} dev ${this.iface} failed: ${r.stderr.trim()}`, { address: this.address, interface: this.iface });
    }
  }

  /**
   * The change made in-process by route netlink (synchronously: no process to start, nothing for a
   * loaded node to delay); false where libc cannot be reached through koffi, and `ip` does it.
   */
  private byNetlink(op: 'add' | 'del'): boolean {
    try {
      changeAddress(op, this.address, this.iface);
      return true;
    } catch (e) {
      if (e instanceof NetlinkError) {
        throw new ArmoryError('VIP_E_COMMAND', `ip addr ${op} ${this.address} dev ${this.iface} failed: ${e.message}`, { address: this.address, interface: this.iface });
      }
      return false;
    }
  }

  /**
   * Sends the gratuitous ARP announcements in the background (the first goes out at once, the
   * others follow every ARP_EVERY_MS until removal); the promise settles once the first arping has
   * been started.
   */
  announce(): Promise<void> {
    this.stopAnnouncing();
    let left = ARP_REPEATS;
    const once = (): Promise<void> =>
      new Promise((resolve, reject) => {
        left -= 1;
        const child = spawn('arping', ['-q', '-U', '-c', '1', '-I', this.iface, this.ip], { stdio: 'ignore' });
        this.arping = child;
        child.once('spawn', () => resolve());
        child.once('error', (e) => reject(new ArmoryError('VIP_E_COMMAND', `arping cannot be started: ${e.message}`, { address: this.address, interface: this.iface })));
        child.once('exit', () => {
          if (this.arping === child) this.arping = null;
        });
        child.unref();
        if (left > 0) {
          this.arpTimer = setTimeout(() => void once().catch(() => undefined), ARP_EVERY_MS);
          this.arpTimer.unref();
        }
      });
    return once();
  }

  /** Stops the announcements still to come, and the one under way. */
  private stopAnnouncing(): void {
    if (this.arpTimer) clearTimeout(this.arpTimer);
    this.arpTimer = null;
    this.arping?.kill('SIGTERM');
    this.arping = null;
  }
}
