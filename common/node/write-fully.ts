import type { FileHandle } from 'node:fs/promises';

/**
 * Writes all of `data` (at `position`, or at the file's offset). write(2) may write less than it
 * was given, typically when a disk fills up: the rest is written after it, and a write that makes
 * no progress fails with ENOSPC. FileHandle.write() alone reports a short write and returns.
 */
export async function writeFully(fh: FileHandle, data: Uint8Array, position?: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position === undefined ? null : position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error(`ENOSPC: no space left on device (wrote ${done} of ${data.length} bytes)`), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}
