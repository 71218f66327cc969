// `npm start`: until the desktop app lands, runs a local agent in the foreground with the example
// configuration (examples/armory.yaml) and its state in ./.armory. Ctrl-C ends the agent; its
// programs keep running (`npx armory-agent shutdown` stops them).
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const config = process.env.ARMORY_CONFIG ?? path.join(root, 'examples/armory.yaml');
const stateDir = process.env.ARMORY_STATE_DIR ?? path.join(root, '.armory');
process.stderr.write(`armory: agent with ${config}, state in ${stateDir}\n  status: npx armory-agent status --state-dir ${stateDir}\n`);
const child = spawn(process.execPath, [path.join(root, 'bin/armory-agent.js'), 'run', '--config', config, '--state-dir', stateDir], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 1));
