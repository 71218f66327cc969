import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the test files of one run claim the ports they pick (emptied by the global set-up). */
const PORT_CLAIMS = path.join(os.tmpdir(), `armory-test-ports-${process.getuid?.() ?? 0}`);

/** Claims a port for this test file: false when another file of the run has it. */
export function claimPort(port: number): boolean {
  try {
    fs.mkdirSync(path.join(PORT_CLAIMS, String(port)));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    fs.mkdirSync(PORT_CLAIMS, { recursive: true });
    fs.mkdirSync(path.join(PORT_CLAIMS, String(port)));
    return true;
  }
}

/** A new run: every claim of an earlier one goes. */
export function forgetPortClaims(): void {
  fs.rmSync(PORT_CLAIMS, { recursive: true, force: true });
}
