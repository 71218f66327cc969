import { createRequire } from 'node:module';
import { ArmoryError } from '../../common/errors/armory-error.js';

/**
 * The few system calls Node lacks — Unix datagram sockets, poll, eventfd, pidfd_open, mkfifo —
 * through libc, via koffi (an FFI library shipped with prebuilt binaries for
 * linux x64/arm64, glibc and musl: no compiler needed on a node). Node itself has no AF_UNIX
 * SOCK_DGRAM. The struct layouts below are those of 64-bit Linux (x64, arm64).
 */
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
const SOCK_CLOEXEC = 0x80000;
const SOCK_NONBLOCK = 0x800;
const SOL_SOCKET = 1;
const SO_PASSCRED = 16;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EFD_CLOEXEC = 0x80000;
const EFD_NONBLOCK = 0x800;
export const POLLIN = 1;
// pidfd_open has the same number on every architecture (asm-generic).
const SYS_PIDFD_OPEN = 434;

/** systemd accepts notify datagrams up to this size; larger ones come back truncated and are refused. */
export const DATAGRAM_MAX = 4096;
// Room for the sender's credentials only: a descriptor passed with BARRIER=1 finds no room and the
// kernel closes it, which releases the sender (systemd-notify waits for exactly that).
const CTRL_LEN = 32;

type Fn = (...args: unknown[]) => unknown;
interface Koffi {
  load(name: string): { func(sig: string): Fn & { async: Fn } };
  struct(name: string, def: Record<string, string>): unknown;
  alloc(type: string, n: number): unknown;
  view(ptr: unknown, len: number): ArrayBuffer;
  address(ptr: unknown): bigint;
  errno(): number;
}

export interface Datagram {
  data: Buffer;
  pid: number | null;
  uid: number | null;
  truncated: boolean;
}

export interface Libc {
  socketDgram(path: string): number;
  /** An fd that becomes readable when the process ends (Linux ≥ 5.3), or -1. */
  pidfdOpen(pid: number): number;
  mkfifo(path: string, mode: number): void;
  recv(fd: number): Datagram | null;
  poll(fds: readonly number[], timeoutMs: number): number[];
  eventfd(): number;
  signal(efd: number): void;
  drain(efd: number): void;
  close(fd: number): void;
  /** A route netlink socket (AF_NETLINK, NETLINK_ROUTE), or -1 with the errno. */
  netlinkRoute(): { fd: number; errno: number };
  /** send(2) of a whole buffer; the byte count or -1 with the errno. */
  send(fd: number, data: Buffer): { n: number; errno: number };
  /** recv(2) without waiting into `into`; the byte count or -1 with the errno (EAGAIN: nothing yet). */
  recvNow(fd: number, into: Buffer): { n: number; errno: number };
  /** The index of a network interface of this process's network namespace; 0 when there is none. */
  ifIndex(name: string): number;
}

let cached: Libc | null = null;

/** Loads the libc bindings once per thread; throws a coded error where koffi or libc is missing. */
export function libc(): Libc {
  if (cached) return cached;
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    throw new ArmoryError('LIVENESS_E_NOTIFY', `the notify socket needs the koffi module, which cannot be loaded: ${(e as Error).message}`);
  }
  let lib: ReturnType<Koffi['load']> | undefined;
  for (const name of ['libc.so.6', 'libc.so']) {
    try {
      lib = koffi.load(name);
      break;
    } catch {
      // try the next name (musl)
    }
  }
  if (!lib) throw new ArmoryError('LIVENESS_E_NOTIFY', 'cannot load the C library');
  koffi.struct('armory_msghdr', {
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'void *',
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  const socket = lib.func('int socket(int, int, int)');
  const bind = lib.func('int bind(int, const void *, uint32_t)');
  const setsockopt = lib.func('int setsockopt(int, int, int, const void *, uint32_t)');
  const recvmsg = lib.func('intptr_t recvmsg(int, _Inout_ armory_msghdr *, int)');
  const close = lib.func('int close(int)');
  const poll = lib.func('int poll(_Inout_ uint8_t *, uint64_t, int)');
  const eventfd = lib.func('int eventfd(uint32_t, int)');
  const write = lib.func('intptr_t write(int, const void *, size_t)');
  const read = lib.func('intptr_t read(int, void *, size_t)');
  const syscall = lib.func('long syscall(long, int, unsigned int)');
  const mkfifo = lib.func('int mkfifo(const char *, uint32_t)');
  const send = lib.func('intptr_t send(int, const void *, size_t, int)');
  const recv = lib.func('intptr_t recv(int, void *, size_t, int)');
  const ifNameToIndex = lib.func('unsigned int if_nametoindex(const char *)');

  const fail = (what: string): never => {
    throw new ArmoryError('LIVENESS_E_NOTIFY', `${what} failed (errno ${koffi.errno()})`);
  };
  const data = koffi.alloc('uint8_t', DATAGRAM_MAX);
  const ctrl = koffi.alloc('uint8_t', CTRL_LEN);
  const iov = koffi.alloc('uint8_t', 16);
  const iovView = new DataView(koffi.view(iov, 16));
  iovView.setBigUint64(0, koffi.address(data), true);
  iovView.setBigUint64(8, BigInt(DATAGRAM_MAX), true);

  cached = {
    pidfdOpen(pid) {
      return Number(syscall(SYS_PIDFD_OPEN, pid, 0));
    },
    mkfifo(path, mode) {
      if ((mkfifo(path, mode) as number) < 0) fail(`mkfifo ${path}`);
    },
    socketDgram(path) {
      const p = Buffer.from(path);
      if (p.length > 107) throw new ArmoryError('LIVENESS_E_NOTIFY', `notify socket path is longer than 107 bytes: ${path}`);
      const fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) as number;
      if (fd < 0) fail('socket');
      const sa = Buffer.alloc(110);
      sa.writeUInt16LE(AF_UNIX, 0);
      p.copy(sa, 2);
      const one = Buffer.alloc(4);
      one.writeInt32LE(1);
      if ((bind(fd, sa, 2 + p.length + 1) as number) < 0 || (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, one, 4) as number) < 0) {
        const errno = koffi.errno();
        close(fd);
        throw new ArmoryError('LIVENESS_E_NOTIFY', `cannot bind the notify socket ${path} (errno ${errno})`);
      }
      return fd;
    },
    recv(fd) {
      const m = { msg_name: null, msg_namelen: 0, msg_iov: iov, msg_iovlen: 1, msg_control: ctrl, msg_controllen: CTRL_LEN, msg_flags: 0 };
      const n = Number(recvmsg(fd, m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
      if (n < 0) return null;
      const out: Datagram = { data: Buffer.from(koffi.view(data, n)).subarray(0, n), pid: null, uid: null, truncated: (m.msg_flags & MSG_TRUNC) !== 0 };
      out.data = Buffer.from(out.data);
      const cv = new DataView(koffi.view(ctrl, CTRL_LEN));
      for (let off = 0; off + 16 <= Number(m.msg_controllen); ) {
        const len = Number(cv.getBigUint64(off, true));
        if (len < 16) break;
        const level = cv.getInt32(off + 8, true);
        const type = cv.getInt32(off + 12, true);
        if (level === SOL_SOCKET && type === SCM_CREDENTIALS && len >= 28) {
          out.pid = cv.getInt32(off + 16, true);
          out.uid = cv.getUint32(off + 20, true);
        }
        if (level === SOL_SOCKET && type === SCM_RIGHTS) for (let i = 16; i + 4 <= len; i += 4) close(cv.getInt32(off + i, true));
        off += (len + 7) & ~7;
      }
      return out;
    },
    poll(fds, timeoutMs) {
      const buf = Buffer.alloc(8 * fds.length);
      fds.forEach((fd, i) => {
        buf.writeInt32LE(fd, i * 8);
        buf.writeInt16LE(POLLIN, i * 8 + 4);
      });
      const r = poll(buf, fds.length, timeoutMs) as number;
      if (r <= 0) return [];
      return fds.filter((_fd, i) => buf.readInt16LE(i * 8 + 6) !== 0);
    },
    eventfd() {
      const fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) as number;
      if (fd < 0) fail('eventfd');
      return fd;
    },
    signal(efd) {
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n);
      write(efd, one, 8);
    },
    drain(efd) {
      read(efd, Buffer.alloc(8), 8);
    },
    close(fd) {
      close(fd);
    },
    netlinkRoute() {
      const fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) as number;
      return { fd, errno: fd < 0 ? koffi.errno() : 0 };
    },
    send(fd, buf) {
      const n = Number(send(fd, buf, buf.length, 0));
      return { n, errno: n < 0 ? koffi.errno() : 0 };
    },
    recvNow(fd, into) {
      const n = Number(recv(fd, into, into.length, MSG_DONTWAIT));
      return { n, errno: n < 0 ? koffi.errno() : 0 };
    },
    ifIndex(name) {
      return ifNameToIndex(name) as number;
    },
  };
  return cached;
}
