import os from 'node:os';
import { libc } from './libc.js';

/**
 * Adding and removing an IPv4 address on an interface with one route-netlink request, as
 * `ip addr add|del ADDRESS/PREFIX dev IFACE` does, but inside the agent: no process to start, so a
 * step-down or takeover on a loaded node is not held up by fork and exec (which took hundreds of
 * milliseconds at a load of 10 on 2 cores, longer than the step-down margin).
 */
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const AF_INET = 2;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const EAGAIN = 11;
const EEXIST = 17;
const EADDRNOTAVAIL = 99;
const REQUEST_LEN = 16 + 8 + 8 + 8;
// The kernel answers within the send; waiting longer would hold the event loop (and the heartbeats).
const ACK_WAIT_MS = 300;

export type AddressChange = 'done' | 'already';

/** A failed request: the errno and its name, for the caller's coded error. */
export class NetlinkError extends Error {
  constructor(
    readonly errno: number,
    what: string,
  ) {
    super(`${what}: ${errnoName(errno)}`);
  }
}

const errnoName = (errno: number): string => Object.entries(os.constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;

let seq = 0;

/** The request, byte for byte (struct nlmsghdr, struct ifaddrmsg, IFA_LOCAL and IFA_ADDRESS). */
export function addressRequest(op: 'add' | 'del', ip: string, prefix: number, ifIndex: number, sequence: number): Buffer {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new RangeError(`not an IPv4 address with prefix: ${ip}/${prefix}`);
  }
  const b = Buffer.alloc(REQUEST_LEN);
  b.writeUInt32LE(REQUEST_LEN, 0);
  b.writeUInt16LE(op === 'add' ? RTM_NEWADDR : RTM_DELADDR, 4);
  b.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : 0), 6);
  b.writeUInt32LE(sequence >>> 0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt8(AF_INET, 16);
  b.writeUInt8(prefix, 17);
  b.writeUInt32LE(ifIndex, 20);
  for (const [off, type] of [
    [24, IFA_LOCAL],
    [32, IFA_ADDRESS],
  ] as const) {
    b.writeUInt16LE(8, off);
    b.writeUInt16LE(type, off + 2);
    Buffer.from(octets).copy(b, off + 4);
  }
  return b;
}

/** The kernel's answer to request `sequence` in a received buffer: 0 (done), a negative errno, or null (not in it). */
export function ackOf(buf: Buffer, sequence: number): number | null {
  for (let off = 0; off + 16 <= buf.length; ) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length) return null;
    if (buf.readUInt16LE(off + 4) === NLMSG_ERROR && buf.readUInt32LE(off + 8) === sequence >>> 0 && len >= 20) return buf.readInt32LE(off + 16);
    off += (len + 3) & ~3;
  }
  return null;
}

/**
 * Adds or removes `ip/prefix` on `iface` in this process's network namespace. Already present
 * (add) or already absent (del) answers 'already'; anything else throws a NetlinkError. Throws
 * whatever libc() throws where koffi cannot be loaded (the caller falls back to `ip`).
 */
export function changeAddress(op: 'add' | 'del', address: string, iface: string): AddressChange {
  const [ip, prefixText] = address.split('/');
  const c = libc();
  const index = c.ifIndex(iface);
  if (index === 0) throw new NetlinkError(os.constants.errno.ENODEV, `no interface ${iface}`);
  seq = (seq + 1) >>> 0;
  const request = addressRequest(op, ip ?? '', Number(prefixText ?? 32), index, seq);
  const sock = c.netlinkRoute();
  if (sock.fd < 0) throw new NetlinkError(sock.errno, 'cannot open a route netlink socket');
  try {
    const sent = c.send(sock.fd, request);
    if (sent.n !== request.length) throw new NetlinkError(sent.errno, `cannot send the netlink request to ${op} ${address}`);
    const reply = Buffer.alloc(8192);
    const deadline = Date.now() + ACK_WAIT_MS;
    for (;;) {
      const r = c.recvNow(sock.fd, reply);
      if (r.n > 0) {
        const code = ackOf(reply.subarray(0, r.n), seq);
        if (code === 0) return 'done';
        if (code !== null) {
          if ((op === 'add' && code === -EEXIST) || (op === 'del' && code === -EADDRNOTAVAIL)) return 'already';
          throw new NetlinkError(-code, `${op === 'add' ? 'adding' : 'removing'} ${address} on ${iface}`);
        }
        continue;
      }
      if (r.errno !== EAGAIN) throw new NetlinkError(r.errno, `no netlink answer to ${op} ${address}`);
      if (Date.now() >= deadline) throw new NetlinkError(os.constants.errno.ETIMEDOUT, `no netlink answer to ${op} ${address}`);
      c.poll([sock.fd], 50);
    }
  } finally {
    c.close(sock.fd);
  }
}
