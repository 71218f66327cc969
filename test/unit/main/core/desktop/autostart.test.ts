import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autostartEntry, autostartFile, execArgument, setAutostart } from '../../../../../main/core/desktop/autostart.js';

describe('start at login (XDG autostart)', () => {
  it('writes a desktop entry that starts the app in the tray, and removes it', async () => {
    const config = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-autostart-'));
    const env = { XDG_CONFIG_HOME: config };
    const file = autostartFile(env);
    expect(file).toBe(path.join(config, 'autostart', 'armory.desktop'));
    await setAutostart(true, { executable: '/home/me/Apps/Armory 1.0.AppImage', env });
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/^\[Desktop Entry\]\nType=Application\nName=Armory\n/);
    expect(text).toContain('Exec="/home/me/Apps/Armory 1.0.AppImage" --hidden\n');
    await setAutostart(false, { executable: 'x', env });
    expect(fs.existsSync(file)).toBe(false);
    await setAutostart(false, { executable: 'x', env });
    fs.rmSync(config, { recursive: true });
  });

  it('quotes Exec arguments as the Desktop Entry spec says', () => {
    expect(execArgument('/opt/Armory/armory-desktop')).toBe('/opt/Armory/armory-desktop');
    expect(execArgument('/a b/$HOME`x`"q"\\')).toBe('"/a b/\\$HOME\\`x\\`\\"q\\"\\\\"');
    expect(execArgument('100%')).toBe('100%%');
    expect(() => autostartEntry(['/a\nExec=evil'])).toThrow(expect.objectContaining({ code: 'DESKTOP_E_AUTOSTART' }));
  });

  it('a folder that cannot be written is DESKTOP_E_AUTOSTART', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-autostart-'));
    fs.writeFileSync(path.join(base, 'autostart'), 'a file where the folder should be');
    await expect(setAutostart(true, { executable: '/x', env: { XDG_CONFIG_HOME: base } })).rejects.toMatchObject({ code: 'DESKTOP_E_AUTOSTART' });
    fs.rmSync(base, { recursive: true });
  });
});
