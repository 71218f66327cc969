import { ArmoryError } from '../../../common/errors/armory-error.js';
import { shellQuote } from '../../../common/node/shell-quote.js';

export type HostArch = 'x64' | 'arm64';
export type HostLibc = 'glibc' | 'musl' | 'unknown';

/** What the manager knows of a host from enrollment: the inventory keeps it, the GUI shows it. */
export interface HostProfile {
  /** `uname -s`, e.g. Linux. */
  readonly os: string;
  /** `uname -r`. */
  readonly kernel: string;
  /** `uname -m`, e.g. x86_64. */
  readonly machine: string;
  /** The machine as Node names it; null when Armory has no build for it. */
  readonly arch: HostArch | null;
  readonly libc: HostLibc;
  /** PRETTY_NAME of /etc/os-release, when there is one. */
  readonly distribution: string | null;
  readonly hostname: string;
  readonly cpus: number;
  readonly memoryMb: number;
  /** Free space of the filesystem the agent is installed on, and the folder that was measured. */
  readonly freeDiskMb: number;
  readonly diskPath: string;
  readonly interfaces: readonly HostInterface[];
  /** PID 1 is systemd. */
  readonly systemd: boolean;
  /** The login user has a systemd user manager. */
  readonly userSystemd: boolean;
  /** The login user's home folder ($HOME), where a user-unit installation goes. */
  readonly home: string | null;
  /** The login user is root. */
  readonly root: boolean;
  /** The login user may run anything as root through sudo without a password. */
  readonly sudo: boolean;
  /** The first `node` on the login user's PATH; `rootOwned`: owned by root and writable by nobody else. */
  readonly node: { readonly path: string; readonly version: string; readonly rootOwned: boolean } | null;
  readonly crontab: boolean;
  /** Commands enrollment needs that the host lacks. */
  readonly missingCommands: readonly string[];
  /** Commands only virtual IPs need (`ip`, `arping`) that the host lacks: reported, and checked when a VIP is placed on the node. */
  readonly missingVipCommands: readonly string[];
}

export interface HostInterface {
  readonly name: string;
  /** CIDR notation, e.g. 192.0.2.4/24. */
  readonly addresses: readonly string[];
}

/** Commands the agent runs to move a virtual IP: add/remove the address, announce it with gratuitous ARP. */
export const VIP_COMMANDS = ['ip', 'arping'] as const;

/** Commands enrollment itself runs on the host (besides a POSIX sh). */
export const REQUIRED_COMMANDS = ['uname', 'mkdir', 'mv', 'rm', 'rmdir', 'chmod', 'chown', 'cat', 'find', 'sha256sum', 'mktemp', 'nohup', 'kill', 'sleep', 'tr', 'grep'] as const;

/**
 * One script, run as the login user, that prints `key=value` lines (keys may repeat). Every probe
 * is guarded so that a missing tool yields an empty value rather than a failed profile.
 */
export function profileScript(installDir: string): string {
  return [
    'LC_ALL=C; export LC_ALL',
    'v() { printf "%s=%s\\n" "$1" "$2"; }',
    'v os "$(uname -s 2>/dev/null)"',
    'v kernel "$(uname -r 2>/dev/null)"',
    'v machine "$(uname -m 2>/dev/null)"',
    'v hostname "$(uname -n 2>/dev/null)"',
    'if [ -r /etc/os-release ]; then v distribution "$(. /etc/os-release 2>/dev/null; printf "%s" "${PRETTY_NAME:-}")"; fi',
    // musl: its loader is /lib/ld-musl-*.so.1 and its ldd says so; glibc's ldd names GNU libc or GLIBC.
    'if ls /lib/ld-musl-* >/dev/null 2>&1 || ldd --version 2>&1 | grep -qi musl; then v libc musl;',
    'elif ldd --version 2>&1 | grep -qiE "glibc|gnu libc|gnu c library"; then v libc glibc;',
    'elif ls /lib*/ld-linux* /lib/*/ld-linux* >/dev/null 2>&1; then v libc glibc; else v libc unknown; fi',
    'v cpus "$(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo 2>/dev/null)"',
    `v memkb "$(grep '^MemTotal:' /proc/meminfo 2>/dev/null | tr -s ' ' | cut -d' ' -f2)"`,
    // Free space where the agent will go: the nearest folder of the install path that exists.
    `d=${shellQuote(installDir)}; i=0`,
    'while [ ! -d "$d" ] && [ $i -lt 64 ]; do d=$(dirname "$d"); i=$((i+1)); done',
    'v diskpath "$d"',
    `v diskkb "$(df -Pk "$d" 2>/dev/null | tail -n 1 | tr -s ' ' | cut -d' ' -f4)"`,
    'if command -v ip >/dev/null 2>&1; then ip -o addr show 2>/dev/null | while read -r _ name fam addr _; do case "$fam" in inet|inet6) v addr "${name%%@*} $addr";; esac; done;',
    'else for n in /sys/class/net/*; do [ -e "$n" ] && v iface "${n##*/}"; done; fi',
    'if [ -d /run/systemd/system ] || [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then v systemd yes; else v systemd no; fi',
    'if command -v systemctl >/dev/null 2>&1 && [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -S "${XDG_RUNTIME_DIR}/systemd/private" ]; then v usersystemd yes; else v usersystemd no; fi',
    'v uid "$(id -u 2>/dev/null)"',
    'v home "${HOME:-}"',
    'if [ "$(id -u 2>/dev/null)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true </dev/null >/dev/null 2>&1; then v sudo yes; else v sudo no; fi',
    'if command -v node >/dev/null 2>&1; then v nodepath "$(command -v node)"; v nodeversion "$(node --version 2>/dev/null)"; v nodestat "$(stat -L -c \'%u %a\' "$(command -v node)" 2>/dev/null)"; fi',
    'if command -v crontab >/dev/null 2>&1; then v crontab yes; else v crontab no; fi',
    `for c in ${REQUIRED_COMMANDS.join(' ')}; do command -v "$c" >/dev/null 2>&1 || v missing "$c"; done`,
    // sbin may be off a plain user's PATH: look there too.
    `for c in ${VIP_COMMANDS.join(' ')}; do command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || [ -x "/sbin/$c" ] || v lacks "$c"; done`,
    'exit 0',
  ].join('\n');
}

function archOf(machine: string): HostArch | null {
  if (machine === 'x86_64' || machine === 'amd64') return 'x64';
  if (machine === 'aarch64' || machine === 'arm64') return 'arm64';
  return null;
}

const wholeNumber = (text: string | undefined): number | null => (text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : null);

/** Parses the output of profileScript; a profile without the basics is ENROLL_E_COMMAND. */
export function parseProfile(output: string): HostProfile {
  const values = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const list = values.get(key) ?? [];
    if (list.length < 256) list.push(line.slice(eq + 1).trim());
    values.set(key, list);
  }
  const one = (key: string): string | undefined => values.get(key)?.[0];
  const os = one('os');
  const machine = one('machine');
  if (!os || !machine) throw new ArmoryError('ENROLL_E_COMMAND', 'the host profile could not be taken: uname gave nothing (is the login shell a POSIX shell?)');

  const interfaces = new Map<string, string[]>();
  for (const entry of values.get('addr') ?? []) {
    const [name = '', address = ''] = entry.split(' ');
    if (name) interfaces.set(name, [...(interfaces.get(name) ?? []), ...(address ? [address] : [])]);
  }
  for (const name of values.get('iface') ?? []) if (!interfaces.has(name)) interfaces.set(name, []);

  const libc = one('libc');
  const nodePath = one('nodepath');
  const nodeVersion = one('nodeversion');
  const uid = one('uid');
  return Object.freeze({
    os,
    kernel: one('kernel') ?? '',
    machine,
    arch: archOf(machine),
    libc: libc === 'glibc' || libc === 'musl' ? libc : 'unknown',
    distribution: one('distribution') || null,
    hostname: one('hostname') ?? '',
    cpus: wholeNumber(one('cpus')) ?? 0,
    memoryMb: Math.floor((wholeNumber(one('memkb')) ?? 0) / 1024),
    freeDiskMb: Math.floor((wholeNumber(one('diskkb')) ?? 0) / 1024),
    diskPath: one('diskpath') ?? '',
    interfaces: Object.freeze([...interfaces].map(([name, addresses]) => Object.freeze({ name, addresses: Object.freeze(addresses) }))),
    systemd: one('systemd') === 'yes',
    userSystemd: one('usersystemd') === 'yes',
    home: one('home') || null,
    root: uid === '0',
    sudo: one('sudo') === 'yes',
    node: nodePath && nodeVersion ? Object.freeze({ path: nodePath, version: nodeVersion, rootOwned: rootOwned(one('nodestat')) }) : null,
    crontab: one('crontab') === 'yes',
    missingCommands: Object.freeze([...(values.get('missing') ?? [])]),
    missingVipCommands: Object.freeze(values.get('lacks') ?? []),
  });
}

/** `stat -c '%u %a'` of a file that root may run: owned by root, not writable by group or others. */
function rootOwned(stat: string | undefined): boolean {
  const m = /^(\d+) ([0-7]{3,4})$/.exec(stat ?? '');
  return m !== null && m[1] === '0' && (parseInt(m[2] as string, 8) & 0o022) === 0;
}

/** The major version of a `node --version` answer (`v20.11.1` → 20), or null. */
export function nodeMajor(version: string): number | null {
  const m = /^v(\d{1,4})\.\d+\.\d+/.exec(version);
  return m ? Number(m[1]) : null;
}
