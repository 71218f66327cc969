import path from 'node:path';

export interface AppLayoutInput {
  /** app.isPackaged */
  readonly packaged: boolean;
  /** app.getAppPath(): the repository in development, resources/app.asar when packaged. */
  readonly appPath: string;
  /** process.resourcesPath: where electron-builder puts extraResources. */
  readonly resourcesPath: string;
  /** process.arch of the desktop app. */
  readonly arch: string;
  /** PATH, to find a Node in development when no node-linux-<arch> package is installed. */
  readonly pathEnv: string | undefined;
  readonly exists: (file: string) => boolean;
}

/** Where the desktop app finds its parts. */
export interface AppLayout {
  /** The GUI bundle (index page, app.js, app.css). */
  readonly rendererDir: string;
  /** The sandboxed preload script (CommonJS, one file). */
  readonly preload: string;
  readonly trayIconsDir: string;
  /**
   * The agent bundle root as enrollment expects it (dist/agent.js, dist/poll-worker.js, koffi and
   * its prebuilt libraries, node-linux-<arch> runtimes, assets/systemd): the repository in
   * development, resources/agent-bundle in a package (electron-builder.yml extraResources).
   */
  readonly bundleDir: string;
  readonly agentBin: string;
  /** The Node that runs the local agent (the app's own executable is Electron); null: none found. */
  readonly nodePath: string | null;
}

/** Folder in resources/ that electron-builder.yml fills with the agent bundle. */
export const AGENT_BUNDLE_DIR = 'agent-bundle';

export function appLayout(i: AppLayoutInput): AppLayout {
  const bundleDir = i.packaged ? path.join(i.resourcesPath, AGENT_BUNDLE_DIR) : i.appPath;
  const shipped = path.join(bundleDir, 'node_modules', `node-linux-${i.arch}`, 'bin', 'node');
  let nodePath: string | null = i.exists(shipped) ? shipped : null;
  if (nodePath === null && !i.packaged) {
    for (const dir of (i.pathEnv ?? '').split(path.delimiter).filter((d) => path.isAbsolute(d))) {
      const candidate = path.join(dir, 'node');
      if (i.exists(candidate)) {
        nodePath = candidate;
        break;
      }
    }
  }
  return Object.freeze({
    rendererDir: path.join(i.appPath, 'dist', 'renderer'),
    preload: path.join(i.appPath, 'main', 'electron', 'dist', 'preload.cjs'),
    trayIconsDir: path.join(i.appPath, 'assets', 'tray'),
    bundleDir,
    agentBin: path.join(bundleDir, 'bin', 'armory-agent.js'),
    nodePath,
  });
}
