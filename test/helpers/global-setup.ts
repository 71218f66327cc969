import { execFileSync } from 'node:child_process';
import { forgetPortClaims } from './port-claims.js';

/** A new run: port claims of an earlier one go; integration tests run the real agent bundle, the one that ships: build it once first. */
export default function setup(): void {
  forgetPortClaims();
  execFileSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' });
}
