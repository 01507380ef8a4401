import { describe, expect, it } from '@jest/globals';

import { isValidIsin, requireIsin } from './isin';

describe('ISIN', () => {
  it.each([
    'US0378331005', // Apple
    'DE000BAY0017', // Bayer: letters in the national part
    'CH0012032048', // Roche
    'DE0007164600',
    'GB0002634946',
    'AU0000XVGZA3',
    'US5949181045',
    'XS2021832634',
  ])('accepts %s', (isin) => {
    expect(isValidIsin(isin)).toBe(true);
  });

  it.each(['US0378331004', 'DE000BAY0018', 'CH0012032040', 'AU0000XVGZA4'])(
    'rejects %s, a real ISIN with its check digit changed',
    (isin) => {
      expect(isValidIsin(isin)).toBe(false);
    },
  );

  it.each([
    ['a wrong check digit', 'US0378331006'],
    ['lower case', 'us0378331005'],
    ['a numeric country prefix', '120378331005'],
    ['a letter as check digit', 'US037833100A'],
    ['eleven characters', 'US037833100'],
    ['thirteen characters', 'US03783310055'],
    ['an empty string', ''],
  ])('rejects %s', (_why, isin) => {
    expect(isValidIsin(isin)).toBe(false);
  });

  it('throws INVALID_ARGUMENT with the ISIN in the context', () => {
    expect(() => requireIsin('US0378331006')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', data: { isin: 'US0378331006' } }),
    );
  });
});
