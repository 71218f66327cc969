import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { ArmoryError } from '../../common/errors/armory-error.js';

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function parsePasswd(line: string): UserInfo | undefined {
  const f = line.split(':');
  if (f.length < 7) return undefined;
  return { name: f[0] as string, uid: Number(f[2]), gid: Number(f[3]), home: f[5] as string };
}

/** Looks a user up by name or uid through NSS (getent), falling back to /etc/passwd. */
export function lookupUser(user: string): UserInfo {
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['passwd', user], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
  } catch {
    const byNumber = /^\d+$/.test(user);
    line = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => (byNumber ? l.split(':')[2] === user : l.startsWith(`${user}:`)));
  }
  const info = line ? parsePasswd(line) : undefined;
  if (!info) throw new ArmoryError('SUPERVISOR_E_USER', `user "${user}" does not exist on this node`, { user });
  return info;
}
