import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArmoryError, fromErrorPayload, toErrorPayload } from '../../../../common/errors/armory-error.js';
import { ERROR_CODES, type ErrorCode } from '../../../../common/errors/codes.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];
const jsonContext = fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__proto__'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });

describe('ArmoryError', () => {
  it('carries its code, message and context and is an Error', () => {
    const e = new ArmoryError('AGENT_E_UNKNOWN_SERVICE', 'no service "web"', { service: 'web' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ArmoryError');
    expect(e.code).toBe('AGENT_E_UNKNOWN_SERVICE');
    expect(e.message).toBe('no service "web"');
    expect(e.context).toEqual({ service: 'web' });
  });

  it('uses the registry text when no message is given', () => {
    expect(new ArmoryError('STORE_E_CORRUPT').message).toBe(ERROR_CODES.STORE_E_CORRUPT);
  });

  it('keeps its cause', () => {
    const cause = new Error('EIO');
    expect(new ArmoryError('STORE_E_IO', 'cannot write', {}, { cause }).cause).toBe(cause);
  });
});

describe('toErrorPayload / fromErrorPayload', () => {
  it('round-trip every code, message and context, also through JSON (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CODES), fc.string(), jsonContext, (code, message, context) => {
        const payload = JSON.parse(JSON.stringify(toErrorPayload(new ArmoryError(code, message, context)))) as ReturnType<typeof toErrorPayload>;
        const back = fromErrorPayload(payload);
        expect(back).toBeInstanceOf(ArmoryError);
        expect(back.code).toBe(code);
        expect(back.message).toBe(message);
        expect(back.context).toEqual(JSON.parse(JSON.stringify(context)));
      }),
    );
  });

  it('leaves out an empty context', () => {
    expect(toErrorPayload(new ArmoryError('CLI_E_USAGE', 'bad'))).toEqual({ code: 'CLI_E_USAGE', message: 'bad' });
  });

  it('turns foreign errors into RPC_E_INTERNAL (or the given fallback) with their message', () => {
    expect(toErrorPayload(new TypeError('x is undefined'))).toEqual({ code: 'RPC_E_INTERNAL', message: 'x is undefined' });
    expect(toErrorPayload(new Error('boom'), 'SUPERVISOR_E_SPAWN')).toEqual({ code: 'SUPERVISOR_E_SPAWN', message: 'boom' });
    expect(toErrorPayload('a string')).toEqual({ code: 'RPC_E_INTERNAL', message: 'a string' });
    expect(toErrorPayload(undefined)).toEqual({ code: 'RPC_E_INTERNAL', message: 'undefined' });
  });

  it.each(['NOT_A_CODE', '', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'rpc_e_internal'])(
    'maps the unknown code %j to RPC_E_INTERNAL, keeping the message and context',
    (code) => {
      const e = fromErrorPayload({ code, message: 'from a newer agent', context: { node: 'a' } });
      expect(e.code).toBe('RPC_E_INTERNAL');
      expect(e.message).toBe('from a newer agent');
      expect(e.context).toEqual({ node: 'a' });
    },
  );

  it('gives an empty context when the payload has none', () => {
    expect(fromErrorPayload({ code: 'WIRE_E_VERSION', message: 'v2' }).context).toEqual({});
  });
});
