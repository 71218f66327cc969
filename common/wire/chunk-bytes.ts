import { z } from 'zod';

/**
 * A chunk of a file in a request between agents: raw bytes (an attachment, to an agent that lists
 * WIRE_FEATURE_ATTACHMENTS) or base64 text (from an older agent), at most `maxBytes` bytes either way.
 */
export function chunkBytes(maxBytes: number) {
  return z.union([
    z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'raw bytes').refine((b) => b.length <= maxBytes, `at most ${maxBytes} bytes`),
    z.base64().max(4 * Math.ceil(maxBytes / 3)),
  ]);
}
