import os from 'node:os';
import path from 'node:path';

/** Where one installation of the manager keeps everything. */
export interface ManagerHome {
  root: string;
  pkiDir: string;
  inventoryFile: string;
  eventsDir: string;
  configsDir: string;
  localAgentDir: string;
}

/** `ARMORY_HOME` when set, else `$XDG_CONFIG_HOME/armory`, else `~/.config/armory`. */
export function managerHome(env: NodeJS.ProcessEnv = process.env): ManagerHome {
  const root = path.resolve(env.ARMORY_HOME ?? path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'armory'));
  return {
    root,
    pkiDir: path.join(root, 'pki'),
    inventoryFile: path.join(root, 'inventory.json'),
    eventsDir: path.join(root, 'events'),
    configsDir: path.join(root, 'configs'),
    localAgentDir: path.join(root, 'local-agent'),
  };
}
