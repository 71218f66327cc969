import { execFile, spawn } from 'node:child_process';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { changeAddress, NetlinkError } from '../os/rtnetlink.js';

/**
 * Gratuitous ARP repeated as Pacemaker's IPaddr2 does (5 announcements). iputils arping takes whole
 * seconds for -i, so they go out 1 s apart; the first leaves at once.
 */
export const ARP_REPEATS = 5;

const run = (cmd: string, args: string[]): Promise<{ code: number; stderr: string }> =>
  new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolve({ code, stderr: String(stderr) });
    });
  });

/**
 * One virtual IP on one interface of this node: added and removed as `ip addr add` / `ip addr del`
 * do (by route netlink, or the `ip` command where koffi is missing), and gratuitous ARP
 * with iputils `arping -U` so that the neighbours move to this node's MAC address at once.
 */
export class VirtualIp {
  readonly ip: string;

  constructor(
    readonly address: string,
    readonly iface: string,
  ) {
    this.ip = address.split('/')[0] as string;
  }

  /** Adds the address; already present counts as done. */
  async add(): Promise<void> {
    if (this.byNetlink('add')) return;
    const r = await run('ip', ['addr', 'add', this.address, 'dev', this.iface]);
    if (r.code !== 0 && !/File exists/.test(r.stderr)) {
      throw new ArmoryError('VIP_E_COMMAND', `ip addr add ${this.address} dev ${this.iface} failed: ${r.stderr.trim()}`, { address: this.address, interface: this.iface });
    }
  }

  /** Removes the address; already absent counts as done. */
  async remove(): Promise<void> {
    if (this.byNetlink('del')) return;
    const r = await run('ip', ['addr', 'del', this.address, 'dev', this.iface]);
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
   * Sends the gratuitous ARP announcements in the background (the first goes out at once); the
   * promise settles once arping has been started, not when it is done.
   */
  announce(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('arping', ['-q', '-U', '-c', String(ARP_REPEATS), '-I', this.iface, this.ip], { stdio: 'ignore' });
      child.once('spawn', () => resolve());
      child.once('error', (e) => reject(new ArmoryError('VIP_E_COMMAND', `arping cannot be started: ${e.message}`, { address: this.address, interface: this.iface })));
      child.unref();
    });
  }
}
