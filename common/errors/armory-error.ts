import { ERROR_CODES, isErrorCode, type ErrorCode } from './codes.js';

export type ErrorContext = Readonly<Record<string, unknown>>;

/** The one error type of Armory: a stable code, a human message and the context it happened in. */
export class ArmoryError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message?: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code], options);
    this.name = 'ArmoryError';
    this.code = code;
    this.context = context;
  }
}

/** What an error looks like on the wire and in the journal. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  context?: Record<string, unknown>;
}

export function toErrorPayload(error: unknown, fallback: ErrorCode = 'RPC_E_INTERNAL'): ErrorPayload {
  if (error instanceof ArmoryError) {
    return Object.keys(error.context).length > 0
      ? { code: error.code, message: error.message, context: { ...error.context } }
      : { code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: fallback, message };
}

export function fromErrorPayload(payload: { code: string; message: string; context?: Record<string, unknown> }): ArmoryError {
  const code: ErrorCode = isErrorCode(payload.code) ? payload.code : 'RPC_E_INTERNAL';
  return new ArmoryError(code, payload.message, payload.context ?? {});
}
