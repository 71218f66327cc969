import { z } from 'zod';
import { chunkBytes } from './chunk-bytes.js';

/** A path relative to a mirrored folder: plain components, no `.`/`..`, no NUL, not absolute. */
export const relPathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.startsWith('/') && !p.includes('\0') && p.split('/').every((c) => c !== '' && c !== '.' && c !== '..'), 'a plain relative path inside the folder');

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const fileMode = z.number().int().min(0).max(0o7777);
/** Bytes in one put or append chunk (before base64). */
export const MIRROR_CHUNK_BYTES = 512 * 1024;
/** How much of a file's end an append is checked against (the `base` hash). */
export const APPEND_BASE_BYTES = 4096;
const MAX_FILE_BYTES = Number.MAX_SAFE_INTEGER;

const chunkData = chunkBytes(MIRROR_CHUNK_BYTES);

/** One change of a mirrored folder, as the active node sends it to a standby. */
export const mirrorOpSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('put'),
    rel: relPathSchema,
    /** Identifies the source file's version (inode, size, mtime): a staged part of another version is started over. */
    version: z.string().min(1).max(200),
    offset: z.number().int().nonnegative().max(MAX_FILE_BYTES),
    total: z.number().int().nonnegative().max(MAX_FILE_BYTES),
    data: chunkData,
    /** With the last chunk: what the whole file must be. */
    final: z.strictObject({ sha256: sha256Hex, mode: fileMode, mtimeMs: z.number() }).optional(),
  }),
  /**
   * New bytes at the end of a file the target has: applied in place only when the target's file is
   * `offset` bytes long and its last ≤ 4 KiB hash to `base`; otherwise answered with `mismatch`.
   */
  z.strictObject({
    kind: z.literal('append'),
    rel: relPathSchema,
    offset: z.number().int().nonnegative().max(MAX_FILE_BYTES),
    base: sha256Hex,
    data: chunkData,
    /** With the last chunk: what the file must be then. */
    final: z.strictObject({ size: z.number().int().nonnegative().max(MAX_FILE_BYTES), mode: fileMode, mtimeMs: z.number() }).optional(),
  }),
  z.strictObject({ kind: z.literal('remove'), rel: relPathSchema }),
  z.strictObject({ kind: z.literal('rename'), from: relPathSchema, to: relPathSchema }),
  z.strictObject({ kind: z.literal('mkdir'), rel: relPathSchema }),
  z.strictObject({ kind: z.literal('symlink'), rel: relPathSchema, target: z.string().min(1).max(4096) }),
]);
export type MirrorOp = z.output<typeof mirrorOpSchema>;

/** A target's answer to a change: how many bytes it has (a put's staged part, an append's file), or that an append does not fit. */
export const mirrorApplyResultSchema = z.strictObject({ have: z.number().int().nonnegative().optional(), mismatch: z.boolean().optional() });
export type MirrorApplyResult = z.output<typeof mirrorApplyResultSchema>;

/** One file of a mirrored copy, as a listing shows it. */
export const mirrorFileSchema = z.strictObject({
  rel: z.string(),
  type: z.enum(['file', 'dir', 'symlink']),
  size: z.number().int().nonnegative(),
  mtimeMs: z.number(),
  sha256: z.string().optional(),
  target: z.string().optional(),
});
export type MirrorFile = z.output<typeof mirrorFileSchema>;

/** How one mirror target of one service is doing (status and metrics). */
export const mirrorStatusSchema = z.strictObject({
  service: z.string(),
  target: z.string().describe('a local folder or node:NAME'),
  up: z.boolean(),
  pending: z.number().int().nonnegative().describe('changes not yet on the target'),
  lagMs: z.number().nonnegative().describe('age of the oldest change not yet on the target (0 when caught up)'),
  resyncing: z.boolean(),
  lastError: z.string().nullable(),
  lastScrub: z.string().nullable(),
  repaired: z.number().int().nonnegative().describe('files the scrub found wrong and repaired'),
  sentBytes: z.number().int().nonnegative().default(0).describe('bytes of file content sent to the target'),
  resumedBytes: z.number().int().nonnegative().default(0).describe('bytes a resumed copy found already staged on the target and did not send again'),
});
export type MirrorStatus = z.output<typeof mirrorStatusSchema>;
