import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { writeFileAtomic } from '../../../common/node/fsync.js';

/** Passed to the app when the desktop session starts it: come up in the tray, with no window. */
export const HIDDEN_FLAG = '--hidden';

/**
 * The XDG autostart entry (freedesktop "Desktop Application Autostart"): how Linux desktops start a
 * program at login. Electron's setLoginItemSettings does nothing on Linux, so the app writes it.
 */
export function autostartFile(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(config, 'autostart', 'armory.desktop');
}

/** One argument of an Exec= line, quoted as the Desktop Entry spec says (and `%` doubled). */
export function execArgument(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (!/[\s"'\\`$<>~|&;*?#()]/.test(escaped) && escaped !== '') return escaped;
  return `"${escaped.replace(/(["`$\\])/g, '\\$1')}"`;
}

export function autostartEntry(command: readonly string[]): string {
  if (command.some((a) => /[\n\r]/.test(a))) throw new ArmoryError('DESKTOP_E_AUTOSTART', 'the start command cannot hold a line break');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Armory',
    'Comment=Keeps your services running (tray)',
    `Exec=${command.map(execArgument).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** Writes (atomically) or removes the autostart entry; `executable` is the app (the AppImage file when run from one). */
export async function setAutostart(enabled: boolean, o: { executable: string; env?: NodeJS.ProcessEnv }): Promise<void> {
  const file = autostartFile(o.env);
  try {
    if (enabled) {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, autostartEntry([o.executable, HIDDEN_FLAG]), 0o644);
    } else {
      await fsp.rm(file, { force: true });
    }
  } catch (e) {
    throw new ArmoryError('DESKTOP_E_AUTOSTART', `cannot ${enabled ? 'write' : 'remove'} ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
}
