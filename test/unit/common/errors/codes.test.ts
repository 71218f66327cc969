import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from '../../../../common/errors/codes.js';

describe('ERROR_CODES', () => {
  it.each(Object.entries(ERROR_CODES))('%s is LAYER_E_NAME with a human summary', (code, text) => {
    expect(code).toMatch(/^[A-Z]+_E_[A-Z_]+$/);
    expect(text.trim().length).toBeGreaterThan(0);
  });
});

describe('isErrorCode', () => {
  it('knows every registered code', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(isErrorCode(code)).toBe(true);
  });

  it.each(['', 'NOPE', 'toString', '__proto__', 'constructor', 'wire_e_malformed'])('refuses %j', (s) => {
    expect(isErrorCode(s)).toBe(false);
  });
});
