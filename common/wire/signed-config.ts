import { z } from 'zod';

/** The largest signed configuration accepted (the YAML inside it is bounded the same way). */
export const MAX_SIGNED_CONFIG_BYTES = 4 * 1024 * 1024 + 64 * 1024;

/**
 * What the manager signs: the exact text of the configuration with its version. The payload travels
 * as a string so that the signed bytes are exactly the bytes verified (no re-serialisation).
 */
export const configPayloadSchema = z.strictObject({
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  issuedAt: z.string().max(64),
  cluster: z.string().min(1).max(128),
  yaml: z.string().max(4 * 1024 * 1024),
});
export type ConfigPayload = z.output<typeof configPayloadSchema>;

/** A configuration signed by the manager: payload text, ECDSA-SHA256 signature, signer certificate. */
export const signedConfigSchema = z.strictObject({
  format: z.literal('armory-signed-config/1'),
  payload: z.string().min(2).max(MAX_SIGNED_CONFIG_BYTES),
  signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'the signature must be base64').max(1024),
  signer: z.string().min(1).max(16_384),
});
export type SignedConfig = z.output<typeof signedConfigSchema>;
