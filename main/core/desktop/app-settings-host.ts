import type { AppSettings } from '../../../common/bridge/settings.js';

/**
 * What the host of the GUI does with the desktop app's own settings: the Electron app applies
 * them (start at login, close to tray); the console has none (`available: false`), and they are
 * only stored.
 */
export interface AppSettingsHost {
  readonly available: boolean;
  apply(settings: AppSettings): Promise<void>;
}

export const noAppSettingsHost: AppSettingsHost = Object.freeze({ available: false, apply: () => Promise.resolve() });
