// `npm start`: the desktop app (Electron) where an Electron binary and a display are present;
// otherwise the console (`armory console`, the same GUI in a browser on 127.0.0.1), saying why the
// desktop app was not used. Arguments after `npm start --` go to the console (e.g. --port 8080).
// Either way, stopping it stops the GUI only: the agents keep running the services.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const say = (line) => process.stderr.write(`armory: ${line}\n`);

/**
 * The Electron executable, found the way node_modules/electron finds it but without its fallback of
 * downloading one (which cannot work here): ELECTRON_OVERRIDE_DIST_PATH, else the binary that
 * electron's installer put under node_modules/electron/dist.
 */
function electronBinary(env) {
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const bin = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, 'electron');
    return fs.existsSync(bin) ? { bin } : { why: `ELECTRON_OVERRIDE_DIST_PATH has no electron binary (${bin})` };
  }
  const pkg = path.join(root, 'node_modules', 'electron');
  if (!fs.existsSync(pkg)) return { why: 'the electron package is not installed (npm ci installs it with the dev dependencies)' };
  const pathFile = path.join(pkg, 'path.txt');
  const rel = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8').trim() : null;
  const bin = rel ? path.join(pkg, 'dist', rel) : null;
  if (!bin || !fs.existsSync(bin)) {
    return { why: 'no Electron binary is installed (electron 45 downloads it on first use, which this machine cannot do; set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron 45 to use one)' };
  }
  return { bin };
}

function desktopChoice(env) {
  const electron = electronBinary(env);
  if (!electron.bin) return electron;
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return { why: 'there is no graphical display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  // Chromium runs as root only without its sandbox, and the desktop app keeps the sandbox on.
  if (process.getuid?.() === 0) return { why: 'it does not run as root with its sandbox on (run `npm start` as your own user)' };
  if (!fs.existsSync(path.join(root, 'main/electron/dist/main.js'))) return { why: 'the desktop app is not built (run `npm run build`)' };
  return electron;
}

function runAndForward(command, args) {
  const child = spawn(command, args, { stdio: 'inherit', cwd: root });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    say(`cannot run ${command}: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

const choice = desktopChoice(process.env);
if (choice.bin) {
  say(`starting the desktop app (${choice.bin})`);
  runAndForward(choice.bin, [root]);
} else {
  say(`the desktop app is not used: ${choice.why}`);
  say('starting the console instead: open the address it prints in a browser');
  runAndForward(process.execPath, [path.join(root, 'bin/armory.js'), 'console', ...process.argv.slice(2)]);
}
