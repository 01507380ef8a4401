import { describe, expect, it } from '@jest/globals';

import { canonicalJson } from './canonical';
import { ChaincodeError, ERROR_CODES, parseChaincodeError } from './errors';
import { parseQuantity } from './quantity';

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined }, n: 5n })).toBe(
      '{"a":{"d":[{"y":2,"z":1}]},"b":1,"n":"5"}',
    );
  });
});

describe('ChaincodeError', () => {
  it('formats CODE: text {json} with the code repeated in the JSON', () => {
    const err = new ChaincodeError('EXCEEDS_ESCROW', 'too much', { remaining: '5', escrowId: 'E1' });
    expect(err.message).toBe('EXCEEDS_ESCROW: too much {"code":"EXCEEDS_ESCROW","escrowId":"E1","remaining":"5"}');
  });

  it.each(ERROR_CODES)('round-trips %s through parseChaincodeError, even when wrapped', (code) => {
    const err = new ChaincodeError(code, 'why: it failed', { id: 'x' });
    expect(parseChaincodeError(`chaincode response 500, ${err.message}`)).toEqual({
      code,
      text: 'why: it failed',
      data: { code, id: 'x' },
    });
  });

  it('returns undefined for a message without a known code', () => {
    expect(parseChaincodeError('Expected 2 parameters, but 1 have been supplied')).toBeUndefined();
  });
});

describe('quantities', () => {
  it('parses decimal strings as bigint beyond 2^64', () => {
    expect(parseQuantity('340282366920938463463374607431768211456', 'q')).toBe(2n ** 128n);
  });

  it.each(['', '-1', '01', '1.5', '1e3', ' 1', '0x10', 'abc'])('rejects %p as INVALID_ARGUMENT', (raw) => {
    expect(() => parseQuantity(raw, 'quantity')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('rejects zero unless allowed', () => {
    expect(() => parseQuantity('0', 'quantity')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(parseQuantity('0', 'quantity', true)).toBe(0n);
  });
});
