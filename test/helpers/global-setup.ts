import { execFileSync } from 'node:child_process';

/** Integration tests run the real agent bundle, the one that ships: build it once first. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' });
}
