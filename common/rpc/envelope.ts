import { z } from 'zod';

/**
 * The transport-agnostic RPC envelope: a request names a method and carries params; the answer
 * carries the same id; a subscription's stream items come as events with the request's id.
 */
const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const requestSchema = z.strictObject({
  id,
  method: z.string().min(1).max(64),
  params: z.unknown().optional(),
});

export const errorSchema = z.strictObject({
  code: z.string().max(64),
  message: z.string().max(65_536),
  context: z.record(z.string(), z.unknown()).optional(),
});

export const responseSchema = z.union([
  z.strictObject({ id, ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: id.nullable(), ok: z.literal(false), error: errorSchema }),
]);

export const streamSchema = z.strictObject({ id, event: z.string().max(64), data: z.unknown() });

export const incomingSchema = z.union([responseSchema, streamSchema]);

export type RpcRequest = z.output<typeof requestSchema>;
export type RpcResponse = z.output<typeof responseSchema>;
export type RpcStream = z.output<typeof streamSchema>;
export type RpcError = z.output<typeof errorSchema>;

/** A method's contract: the params it accepts and the result it returns. */
export interface MethodContract<P extends z.ZodType, R extends z.ZodType> {
  readonly params: P;
  readonly result: R;
  /** A streaming method keeps answering with events until the connection closes. */
  readonly stream?: z.ZodType;
}

export function method<P extends z.ZodType, R extends z.ZodType>(params: P, result: R, stream?: z.ZodType): MethodContract<P, R> {
  return stream ? { params, result, stream } : { params, result };
}
