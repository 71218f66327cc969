import type { ViewContext } from '../../view.js';

/**
 * Sections of the Settings screen. The notification settings (e-mail, webhook, desktop; test
 * button) plug in here: a module that renders its section pushes it onto this list from
 * renderer/main.ts, next to the domain it uses.
 */
export interface SettingsSection {
  readonly id: string;
  readonly title: string;
  render(ctx: ViewContext): HTMLElement;
}

export const settingsSections: SettingsSection[] = [];
