import path from 'node:path';
import { Menu, nativeImage, Tray } from 'electron';
import type { TrayState } from '../core/health/tray-state.js';

export interface TrayActions {
  open(): void;
  quit(): void;
}

/** The tray icon: its colour and tooltip follow the worst service (main/core/health/tray-state.ts). */
export class TrayIcon {
  private readonly tray: Tray;
  private level = '';

  constructor(
    private readonly iconsDir: string,
    private readonly actions: TrayActions,
  ) {
    this.tray = new Tray(this.image('unknown'));
    this.tray.on('click', () => actions.open());
    this.show({ level: 'unknown', tooltip: 'Armory: connecting…', worst: [] });
  }

  private image(level: string) {
    return nativeImage.createFromPath(path.join(this.iconsDir, `${level}.png`));
  }

  show(state: TrayState): void {
    if (state.level !== this.level) {
      this.level = state.level;
      this.tray.setImage(this.image(state.level));
    }
    this.tray.setToolTip(state.tooltip);
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: state.tooltip.replace(/^Armory: /, ''), enabled: false },
        ...state.worst.map((w) => ({ label: `  ${w}`, enabled: false })),
        { type: 'separator' },
        { label: 'Open Armory', click: () => this.actions.open() },
        { label: 'Quit Armory (services keep running)', click: () => this.actions.quit() },
      ]),
    );
  }

  destroy(): void {
    this.tray.destroy();
  }
}
